namespace IngestLite.Jobs.Stages.Generation;

/// <summary>
/// One LoRA a generation used: its name as the tool recorded it (an A1111 prompt tag's name, a ComfyUI
/// <c>lora_name</c> file path), its weight when recorded (A1111's tag multiplier, ComfyUI's strength_model),
/// and its hash when recorded (A1111's short hash, InvokeAI's blake3, SwarmUI's 0x… form).
/// </summary>
public sealed record Lora(string Name, double? Weight, string? Hash = null);

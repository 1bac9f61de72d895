namespace IngestLite.Bench;

/// <summary>Placeholder for the child client process (connections and fan-out scenarios).</summary>
public static class ClientProcess
{
    public const string Mode = "--client-process";

    public static Task<int> RunAsync(string[] args) => Task.FromResult(args.Length);
}

using System.Net.Http.Json;
using System.Text.Json;

namespace IngestLite.Bench;

/// <summary>The few API calls the benchmark makes.</summary>
public sealed class Api(HttpClient http)
{
    public async Task<string> StartAsync(object parameters)
    {
        using var response = await http.PostAsJsonAsync("api/ingest/process", new { parameters });
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"process failed: {(int)response.StatusCode} {body}");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("session_id").GetString()!;
    }
}

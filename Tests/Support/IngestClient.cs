using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace IngestLite.Tests.Support;

/// <summary>Thin helpers over the ingest API for tests: start a run, wait for its end, read JSON.</summary>
public sealed class IngestClient(HttpClient http)
{
    public HttpClient Http => http;

    public async Task<HttpResponseMessage> PostProcessAsync(object parameters) =>
        await http.PostAsJsonAsync("api/ingest/process", new { parameters });

    /// <summary>Starts a session and returns its id; fails the test with the API's message otherwise.</summary>
    public async Task<string> StartAsync(object parameters)
    {
        using var response = await PostProcessAsync(parameters);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"process failed: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["session_id"]!.GetValue<string>();
    }

    public async Task<JsonObject> StatusAsync(string sessionId) =>
        JsonNode.Parse(await http.GetStringAsync($"api/ingest/status/{sessionId}"))!.AsObject();

    public async Task<string> StatusTextAsync(string sessionId) => await http.GetStringAsync($"api/ingest/status/{sessionId}");

    /// <summary>Polls until the session reaches a final state, or fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonObject> WaitForEndAsync(string sessionId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var status = await StatusAsync(sessionId);
            if (status["status"]!.GetValue<string>() is "completed" or "error" or "cancelled" or "interrupted" or "committed" or "commit_error")
            {
                return status;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"session {sessionId} did not finish: {status.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    public async Task<JsonObject> WaitUntilAsync(string sessionId, Func<JsonObject, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = await StatusAsync(sessionId);
            if (condition(status))
            {
                return status;
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"condition not reached: {status.ToJsonString()}");
            await Task.Delay(10);
        }
    }

    public static int Int(JsonNode? node, string path)
    {
        foreach (var part in path.Split('.'))
        {
            node = node?[part];
        }

        return node!.GetValue<int>();
    }

    public static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.Integration;

/// <summary>Per-file results: paging with a cursor, CSV export, retry of the failed files.</summary>
public sealed class SessionFilesTests : ApiTest
{
    [Test]
    public async Task Hostile_files_get_their_state_and_reason_and_counts_equal_the_stats()
    {
        MediaFactory.BuildStandardCorpus(FolderPath, Path.Combine(App.WorkDirectory, "outside-" + Folder));
        var id = await Api.StartAsync(new { directory = Folder, recursive = true });
        var status = await Api.WaitForEndAsync(id);
        var items = await AllAsync(id);

        Assert.That(State(items, "broken/corrupt.png"), Is.EqualTo(("failed", "phash")));
        Assert.That(Reason(items, "broken/corrupt.png"), Does.Contain("not a decodable image"));
        Assert.That(State(items, "broken/zero.png"), Is.EqualTo(("failed", "stat")));
        Assert.That(State(items, "photos/escape.png").State, Is.EqualTo("failed"));
        Assert.That(Reason(items, "photos/escape.png"), Does.Contain("outside the media root"));
        Assert.That(State(items, "broken/truncated.jpg").State, Is.EqualTo("committed_with_warnings"));
        Assert.That(State(items, "broken/good.png").State, Is.EqualTo("committed"));

        var stats = status["stats"]!;
        int Count(params string[] states) => items.Count(i => states.Contains(i["state"]!.GetValue<string>()));
        Assert.Multiple(() =>
        {
            Assert.That(Count("committed", "committed_with_warnings"), Is.EqualTo(IngestClient.Int(stats, "committed_files")));
            Assert.That(Count("failed"), Is.EqualTo(IngestClient.Int(stats, "errors")));
            Assert.That(Count("skipped"), Is.EqualTo(IngestClient.Int(stats, "skipped_existing")));
            Assert.That(Count("committed_with_warnings"), Is.EqualTo(IngestClient.Int(stats, "warnings")));
            Assert.That(items, Has.Count.EqualTo(IngestClient.Int(stats, "total_discovered")));
        });

        var failedOnly = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?state=failed"));
        Assert.That(failedOnly["items"]!.AsArray().Select(i => i!["state"]!.GetValue<string>()), Is.All.EqualTo("failed"));
        var search = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?q=nested"));
        Assert.That(search["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()), Is.All.Contains("nested"));
    }

    [Test]
    public async Task Cursor_paging_during_a_run_never_misses_or_repeats_a_file()
    {
        IngestApiTests.WritePngs(Folder, 50);
        HoldAfter(0);
        var id = await Api.StartAsync(new { directory = Folder });
        var seen = new List<string>();
        var cursor = "0";
        var pagesWhileRunning = 0;

        async Task<int> ReadPageAsync()
        {
            var page = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?cursor={cursor}&limit=7"));
            var items = page["items"]!.AsArray();
            seen.AddRange(items.Select(i => i!["path"]!.GetValue<string>()));
            cursor = page["next_cursor"]!.GetValue<string>();
            return items.Count;
        }

        // The run goes on in steps of 10 files that the test lets through: pages are read as files are being
        // written (right after a release) and while the run provably still runs (held at the gate).
        for (var released = 10; released < 50; released += 10)
        {
            App.Gate.Release(10);
            await ReadPageAsync();
            await Api.WaitUntilAsync(id, s => IngestClient.Int(s, "processed_files") >= released);
            pagesWhileRunning += await ReadPageAsync() > 0 ? 1 : 0;
            Assert.That((await Api.StatusAsync(id))["status"]!.GetValue<string>(), Is.EqualTo("processing"));
        }

        App.Gate.Open();
        await Api.WaitForEndAsync(id);
        while (await ReadPageAsync() > 0)
        {
        }

        Assert.That(pagesWhileRunning, Is.GreaterThan(2), "the test must page while the run is writing");
        Assert.That(seen, Is.Unique, "no file repeats");
        Assert.That(seen, Has.Count.EqualTo(50), "no file is missed");
    }

    [Test]
    public async Task Csv_export_round_trips()
    {
        var dir = FolderPath;
        MediaFactory.WritePng(Path.Combine(dir, "plain.png"), 8, 8, seed: 1);
        MediaFactory.WritePng(Path.Combine(dir, "comma, \"quoted\" é.png"), 8, 8, seed: 2);
        MediaFactory.WritePng(Path.Combine(dir, "line\nbreak.png"), 8, 8, seed: 3);
        File.WriteAllText(Path.Combine(dir, "bad, \"one\".png"), "not an image");
        var id = await Api.StartAsync(new { directory = Folder });
        await Api.WaitForEndAsync(id);

        using var response = await Http.GetAsync($"api/ingest/session/{id}/files.csv");
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/csv"));
        var rows = ParseCsv(Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
        var json = await AllAsync(id);

        Assert.That(rows[0], Is.EqualTo(new[] { "seq", "path", "state", "stage", "reason", "size", "duration_ms" }));
        Assert.That(rows.Count - 1, Is.EqualTo(json.Count));
        for (var i = 0; i < json.Count; i++)
        {
            var expected = json[i];
            Assert.That(rows[i + 1][1], Is.EqualTo(expected["path"]!.GetValue<string>()));
            Assert.That(rows[i + 1][2], Is.EqualTo(expected["state"]!.GetValue<string>()));
            Assert.That(rows[i + 1][4], Is.EqualTo(expected["reason"]?.GetValue<string>() ?? ""));
            Assert.That(long.Parse(rows[i + 1][5]), Is.EqualTo(expected["size"]!.GetValue<long>()));
        }

        using var failedOnly = await Http.GetAsync($"api/ingest/session/{id}/files.csv?state=failed");
        Assert.That(ParseCsv(await failedOnly.Content.ReadAsStringAsync()), Has.Count.EqualTo(2), "header + the one failed file");
    }

    [Test]
    public async Task Retry_failed_runs_exactly_the_failed_files_in_a_linked_session()
    {
        var dir = FolderPath;
        IngestApiTests.WritePngs(Folder, 3);
        MediaFactory.WriteCorruptPng(Path.Combine(dir, "fixable.png"));
        MediaFactory.WriteZeroByte(Path.Combine(dir, "still-empty.png"));
        var parent = await Api.StartAsync(new { directory = Folder });
        await Api.WaitForEndAsync(parent);

        MediaFactory.WritePng(Path.Combine(dir, "fixable.png"), 8, 8, seed: 9);
        using var retry = await Http.PostAsync($"api/ingest/session/{parent}/retry-failed", null);
        var started = IngestClient.Parse(await retry.Content.ReadAsStringAsync());
        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.OK), started.ToJsonString());
        Assert.That(IngestClient.Int(started, "total_files"), Is.EqualTo(2), "only the two failed files");

        var child = started["session_id"]!.GetValue<string>();
        var status = await Api.WaitForEndAsync(child);
        Assert.That(status["parent_session_id"]!.GetValue<string>(), Is.EqualTo(parent));
        var items = await AllAsync(child);
        Assert.That(items.Select(i => i!["path"]!.GetValue<string>()), Is.EquivalentTo(new[] { $"{Folder}/fixable.png", $"{Folder}/still-empty.png" }));
        Assert.That(State(items, "fixable.png").State, Is.EqualTo("committed"));
        Assert.That(State(items, "still-empty.png").State, Is.EqualTo("failed"));

        IngestApiTests.WritePngs(Folder, 3, name: "slow");
        HoldAfter(0);
        var running = await Api.StartAsync(new { directory = Folder, skip_existing = false });
        using (var early = await Http.PostAsync($"api/ingest/session/{running}/retry-failed", null))
        {
            Assert.That(early.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "a running session cannot be retried yet");
        }

        await Http.PostAsync($"api/ingest/cancel/{running}", null);
        await Api.WaitForEndAsync(running);
        App.Gate.Open();

        var clean = await Api.StartAsync(new { directory = Folder, skip_existing = false, max_files = 1 });
        await Api.WaitForEndAsync(clean);
        using var nothing = await Http.PostAsync($"api/ingest/session/{clean}/retry-failed", null);
        Assert.That(nothing.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "a session without failures has nothing to retry");
    }

    [TestCase("state=bogus", "state")]
    [TestCase("cursor=-1", "cursor")]
    [TestCase("cursor=abc", "cursor")]
    [TestCase("limit=0", "limit")]
    [TestCase("limit=5000", "limit")]
    public async Task Bad_parameters_answer_400(string query, string field)
    {
        IngestApiTests.WritePngs(Folder, 1);
        var id = await Api.StartAsync(new { directory = Folder });
        using var response = await Http.GetAsync($"api/ingest/session/{id}/files?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(IngestClient.Parse(await response.Content.ReadAsStringAsync())["errors"]![field], Is.Not.Null);
    }

    [TestCase("GET", "files")]
    [TestCase("GET", "files.csv")]
    [TestCase("POST", "retry-failed")]
    public async Task Unknown_session_answers_404(string method, string leaf)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"api/ingest/session/nope/{leaf}"));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private async Task<List<JsonNode>> AllAsync(string id)
    {
        var all = new List<JsonNode>();
        var cursor = "0";
        while (true)
        {
            var page = IngestClient.Parse(await Http.GetStringAsync($"api/ingest/session/{id}/files?cursor={cursor}&limit=1000"));
            all.AddRange(page["items"]!.AsArray()!.Select(i => i!));
            cursor = page["next_cursor"]!.GetValue<string>();
            if (!page["has_more"]!.GetValue<bool>())
            {
                return all;
            }
        }
    }

    private static (string State, string Stage) State(List<JsonNode> items, string pathSuffix)
    {
        var item = items.Single(i => i["path"]!.GetValue<string>().EndsWith(pathSuffix, StringComparison.Ordinal));
        return (item["state"]!.GetValue<string>(), item["stage"]!.GetValue<string>());
    }

    private static string Reason(List<JsonNode> items, string pathSuffix) =>
        items.Single(i => i["path"]!.GetValue<string>().EndsWith(pathSuffix, StringComparison.Ordinal))["reason"]!.GetValue<string>();

    /// <summary>An RFC 4180 reader, written independently of the server's writer.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        return rows;
    }
}

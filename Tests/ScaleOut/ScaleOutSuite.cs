using IngestLite.Tests.Integration.Browser;
using IngestLite.Tests.Support;

namespace IngestLite.Tests.ScaleOut;

/// <summary>
/// A deployment of two nodes on one PostgreSQL database and one media root: the web node in this process (the
/// browser tests' <see cref="AppHost"/>, Node:Role Web, no job server) and a worker node as a child process
/// (Node:Role Worker) that runs every job at 10 files/s, so a run lasts long enough to watch.
/// </summary>
[SetUpFixture]
public sealed class ScaleOutSuite
{
    private static AppHost? _web;
    private static ChildApp? _worker;
    private static PostgresDatabase? _database;

    public static AppHost Web => _web ?? throw new InvalidOperationException("The scale-out web node has not started.");

    [OneTimeSetUp]
    public async Task StartNodesAsync()
    {
        _database = await PostgresDatabase.CreateAsync();
        var work = Path.Combine(Path.GetTempPath(), "ingestlite-scaleout-" + Guid.NewGuid().ToString("N")[..8]);
        var shared = new Dictionary<string, string>
        {
            ["Storage:Provider"] = "PostgreSql",
            ["ConnectionStrings:IngestLite"] = _database.ConnectionString,
            ["Ingest:MediaRoot"] = Path.Combine(work, "media"),
            ["Ingest:CatalogPath"] = Path.Combine(work, "data", "catalog.db"),
        };
        _web = new AppHost(work, shared.Append(new("Node:Role", "Web")).ToDictionary(p => p.Key, p => (string?)p.Value)).Start();
        _worker = await ChildApp.StartAsync(work, shared.Append(new("Node:Role", "Worker")).Append(new("Ingest:MaxFilesPerSecond", "10")).ToDictionary());
    }

    [OneTimeTearDown]
    public async Task StopNodesAsync()
    {
        await new BrowserFixture().CloseAsync();
        _worker?.Dispose();
        if (_web is { } web)
        {
            web.Dispose();
            Integration.TestSuite.TryDelete(web.WorkDirectory);
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace IngestLite.Tests.Support;

/// <summary>
/// The app on real Kestrel at 127.0.0.1 with a free port, a temporary media root and catalog.
/// Browsers and HttpClient reach it over real sockets.
/// </summary>
public sealed class AppHost : WebApplicationFactory<Program>
{
    /// <summary>Set (to <c>PostgreSql</c>) to run the hosts of a test run on that storage instead of the embedded one.</summary>
    public const string StorageVariable = "INGESTLITE_TEST_STORAGE";

    private readonly Dictionary<string, string?> _settings;
    private readonly PostgresDatabase? _database;

    public AppHost(string workDirectory, IDictionary<string, string?>? settings = null)
    {
        WorkDirectory = workDirectory;
        MediaRoot = Path.Combine(workDirectory, "media");
        Directory.CreateDirectory(MediaRoot);
        _settings = new Dictionary<string, string?>
        {
            ["Ingest:MediaRoot"] = MediaRoot,
            ["Ingest:CatalogPath"] = Path.Combine(workDirectory, "data", "catalog.db"),
            ["Ingest:WorkerCount"] = "2",
            ["Stream:HeartbeatInterval"] = "00:00:15",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        // The catalog suite's second run (scripts/test.sh): the same tests with everything on PostgreSQL, in a database of their own.
        if (Environment.GetEnvironmentVariable(StorageVariable) is { Length: > 0 } storage && !_settings.ContainsKey("Storage:Provider"))
        {
            _database = PostgresDatabase.CreateAsync().GetAwaiter().GetResult();
            _settings["Storage:Provider"] = storage;
            _settings["ConnectionStrings:IngestLite"] = _database.ConnectionString;
        }

        UseKestrel(0);
    }

    public string WorkDirectory { get; }

    public string MediaRoot { get; }

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Every run passes this gate before each file: hold it to keep a session in progress.</summary>
    public TestGate Gate { get; } = new();

    /// <summary>The folder events watches get; a test can refuse them for a folder.</summary>
    public TestFolderEvents FolderEvents { get; } = new();

    public AppHost Start()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal) + "/");
        return this;
    }

    /// <summary>An HttpClient over the real socket (not the in-memory handler).</summary>
    public HttpClient CreateRealClient(TimeSpan? timeout = null) => new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), MaxConnectionsPerServer = 1000 })
    {
        BaseAddress = BaseAddress,
        Timeout = timeout ?? TimeSpan.FromSeconds(60),
    };

    /// <summary>Changes a setting at run time (e.g. the throttle) and reloads configuration.</summary>
    public void SetSetting(string key, string? value)
    {
        var configuration = (IConfigurationRoot)Services.GetRequiredService<IConfiguration>();
        configuration[key] = value;
        configuration.Reload();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _database is not null)
        {
            _database.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Requests carrying this header appear to come from that (remote) address.</summary>
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(configuration => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureServices(services =>
        {
            services.AddTransient<IStartupFilter, RemoteAddressOverride>();
            services.AddSingleton<IngestLite.Jobs.IFileGate>(Gate);
            services.AddSingleton<IngestLite.Jobs.Watching.IFolderEventsFactory>(FolderEvents);
        });
    }

    /// <summary>Lets a test pose as a remote client, so local-only rules can be checked from loopback.</summary>
    private sealed class RemoteAddressOverride : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteAddressHeader, out var value) && System.Net.IPAddress.TryParse(value, out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

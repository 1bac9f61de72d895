using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>Where the app keeps its jobs and its catalog.</summary>
public enum StorageProvider
{
    /// <summary>Hangfire in memory and an SQLite catalog file: one process, nothing to set up (the default).</summary>
    Embedded,

    /// <summary>Hangfire and the catalog in one PostgreSQL database (<c>ConnectionStrings:IngestLite</c>), shared by every node.</summary>
    PostgreSql,
}

/// <summary>What one process of a scaled-out app does.</summary>
public enum NodeRole
{
    /// <summary>Pages, API, streams and the Hangfire server (the default).</summary>
    All,

    /// <summary>Pages, API, streams and the dashboard; jobs are enqueued for the workers, none run here.</summary>
    Web,

    /// <summary>The Hangfire server only: it runs the jobs (and the watched folders), and answers <c>/healthz</c>.</summary>
    Worker,
}

/// <summary>Settings of section <c>Storage</c>, with the connection string <c>ConnectionStrings:IngestLite</c>.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    public const string ConnectionStringName = "IngestLite";

    public StorageProvider Provider { get; set; } = StorageProvider.Embedded;

    /// <summary>From <c>ConnectionStrings:IngestLite</c>; read only with <see cref="StorageProvider.PostgreSql"/>.</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>Settings of section <c>Node</c>.</summary>
public sealed class NodeOptions
{
    public const string SectionName = "Node";

    public NodeRole Role { get; set; } = NodeRole.All;

    /// <summary>
    /// This process among the nodes (the sessions it runs are leased in its name). Unique per process by default:
    /// host name, process id and a random suffix, so a restarted node never inherits a dead one's lease.
    /// </summary>
    public string Name { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Random.Shared.Next(0x10000):x4}";

    /// <summary>
    /// With PostgreSQL: a node renews its claim on the sessions it runs every third of this. Once a node has not for this
    /// long (killed, or cut off from the database), another node marks its running sessions interrupted, to be resumed.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>This node's own Hangfire queue (from <see cref="Name"/>): the batches of the folders it watches run here.</summary>
    public string Queue => QueueOf(Name);

    /// <summary>The own Hangfire queue of the node named <paramref name="name"/> (Hangfire takes lower-case letters, digits, _ and -).</summary>
    public static string QueueOf(string name) => "node-" + new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-')]);

    /// <summary>True when this process runs jobs (a Hangfire server).</summary>
    public bool RunsJobs => Role is NodeRole.All or NodeRole.Worker;

    /// <summary>True when this process serves pages, the API and streams.</summary>
    public bool ServesWeb => Role is NodeRole.All or NodeRole.Web;
}

/// <summary>Checks that the storage and the node's role fit together, with messages a person can act on.</summary>
public sealed class StorageOptionsValidator(IOptions<NodeOptions> node) : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var failures = new List<string>();
        if (options.Provider is StorageProvider.PostgreSql && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            failures.Add("Storage:Provider is PostgreSql, but ConnectionStrings:IngestLite is not set " +
                "(e.g. \"Host=127.0.0.1;Username=ingestlite;Password=…;Database=ingestlite\").");
        }

        if (options.Provider is StorageProvider.PostgreSql && !string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            try
            {
                _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
            }
            catch (ArgumentException ex)
            {
                failures.Add($"ConnectionStrings:IngestLite is not a valid PostgreSQL connection string: {ex.Message}");
            }
        }

        if (node.Value.Role is not NodeRole.All && options.Provider is not StorageProvider.PostgreSql)
        {
            failures.Add($"Node:Role is {node.Value.Role}, which needs storage the nodes share: set Storage:Provider to PostgreSql " +
                "(the embedded storage lives inside one process).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

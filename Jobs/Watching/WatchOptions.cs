using System.ComponentModel.DataAnnotations;

namespace IngestLite.Jobs.Watching;

/// <summary>Settings of section <c>Watch</c>: how watched folders are followed.</summary>
public sealed class WatchOptions
{
    public const string SectionName = "Watch";

    /// <summary>A file is ingested once its size and modification time have not changed for this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan StabilityPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often every watched folder is compared with the catalog, to catch what events missed (the only way on network mounts).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A file still changing after this long is tried anyway (and may fail with the reason).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxGrowthWait { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>More events than this between two looks collapse into one rescan of the folder.</summary>
    [Range(1, 1_000_000)]
    public int BurstLimit { get; set; } = 500;

    /// <summary>How often a watch looks at its waiting files.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan LookInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Folders watched from start-up (kept in the catalog like those added through the API; an existing watch of the folder is kept).</summary>
    public List<WatchDefinition> Folders { get; set; } = [];
}

/// <summary>A folder to watch at start-up: root-relative, with the pattern and recursion of an ingest.</summary>
public sealed class WatchDefinition
{
    [Required(AllowEmptyStrings = false)]
    public string Directory { get; set; } = "";

    public string? Pattern { get; set; }

    public bool Recursive { get; set; } = true;
}

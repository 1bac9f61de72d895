using IngestLite.Catalog;
using IngestLite.Progress;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

public static class JobsServiceCollectionExtensions
{
    /// <summary>The ingest feature: validated options, the catalog, the registry, the job and its launcher.</summary>
    public static IServiceCollection AddIngest(this IServiceCollection services)
    {
        // Where jobs and the catalog live, and what this process does: checked together at start-up.
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) =>
                options.ConnectionString ??= configuration.GetConnectionString(StorageOptions.ConnectionStringName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();

        services.AddOptions<IngestOptions>()
            .BindConfiguration(IngestOptions.SectionName)
            .ValidateDataAnnotations()
            .PostConfigure<IHostEnvironment>((options, environment) =>
            {
                options.MediaRoot = Path.GetFullPath(options.MediaRoot, environment.ContentRootPath);
                options.CatalogPath = Path.GetFullPath(options.CatalogPath, environment.ContentRootPath);
                options.ThumbnailPath = options.ThumbnailPath is { Length: > 0 } thumbnails
                    ? Path.GetFullPath(thumbnails, environment.ContentRootPath)
                    : Path.Combine(Path.GetDirectoryName(options.CatalogPath)!, "thumbnails");
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<MediaRoot>();
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<StorageOptions>>().Value is { Provider: StorageProvider.PostgreSql } storage ? CatalogDatabase.OpenPostgres(storage.ConnectionString!) : new CatalogDatabase(provider.GetRequiredService<IOptions<IngestOptions>>().Value.CatalogPath));
        services.AddSingleton<ICounterMarks>(provider => provider.GetRequiredService<CatalogDatabase>());
        services.AddSingleton<MediaCatalog>();
        services.AddSingleton<PerceptualIndex>();
        services.AddSingleton<IMediaCatalog>(provider => provider.GetRequiredService<MediaCatalog>());
        services.AddSingleton<ISessionStore, SessionStore>();
        services.AddSingleton<ISessionArchive, CatalogSessionArchive>();

        // One node: the registry in memory. PostgreSQL: every node's registry shares its sessions through the database,
        // and it starts (catches up with the table) before anything below publishes.
        services.AddSingleton<IProgressRegistry>(provider => provider.GetRequiredService<IOptions<StorageOptions>>().Value.Provider is StorageProvider.PostgreSql
            ? new PostgresProgressRegistry(
                Npgsql.NpgsqlDataSource.Create(provider.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString!),
                provider.GetRequiredService<IOptions<NodeOptions>>().Value.Name,
                provider.GetRequiredService<IOptions<NodeOptions>>().Value.LeaseTimeout,
                provider.GetRequiredService<IOptionsMonitor<StreamOptions>>(),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<PostgresProgressRegistry>>())
            : new InProcessProgressRegistry(provider.GetRequiredService<ICounterMarks>()));
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<IProgressRegistry>() as IHostedService ?? new NothingToStart());
        services.AddSingleton<SessionControl>();
        services.AddSingleton<FileProcessor>();
        services.AddSingleton<ThumbnailStore>();
        services.TryAddSingleton<IFileGate, OpenFileGate>();
        services.AddSingleton<IngestSessions>();
        services.AddTransient<IngestJob>();
        services.AddTransient<CommitJob>();
        services.AddTransient<ReparseJob>();
        services.AddHostedService<SessionLifecycle>();
        services.AddHostedService<SessionWatchdog>();

        // Watched folders: Watch:* tunes them, Ingest:Watch lists the folders watched from start-up.
        services.AddOptions<Watching.WatchOptions>()
            .BindConfiguration(Watching.WatchOptions.SectionName)
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection("Ingest:Watch").Bind(options.Folders))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<WatchStore>();
        services.TryAddSingleton<Watching.IFolderEventsFactory, Watching.FileSystemFolderEventsFactory>();
        services.AddSingleton(provider => new Watching.WatchClaims(provider.GetRequiredService<IOptions<StorageOptions>>().Value is { Provider: StorageProvider.PostgreSql } storage
            ? storage.ConnectionString
            : null));
        services.AddSingleton<Watching.WatchService>();
        services.AddHostedService(provider => provider.GetRequiredService<Watching.WatchService>());
        return services;
    }
}

/// <summary>A hosted service that does nothing: what a node gets where another has one (the job server, the backplane).</summary>
internal sealed class NothingToStart : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

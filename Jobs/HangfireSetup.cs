using System.ComponentModel.DataAnnotations;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;

namespace IngestLite.Jobs;

/// <summary>Settings of section <c>Hangfire</c>: the job server and its dashboard.</summary>
public sealed class HangfireOptions
{
    public const string SectionName = "Hangfire";

    /// <summary>Hangfire workers: how many ingest sessions run at once.</summary>
    [Range(1, 64)]
    public int WorkerCount { get; set; } = 4;

    /// <summary>Lets non-local requests reach the dashboard (and delete jobs): only behind an authenticating proxy.</summary>
    public bool DashboardAllowRemote { get; set; }

    /// <summary>How long the server waits for running jobs when the app stops; the host waits longer (see <see cref="HangfireSetup"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Hangfire's wiring: storage, the server that runs ingest jobs, and the dashboard.</summary>
public static class HangfireSetup
{
    /// <summary>The host gives the server this much longer than its own stop timeout, so jobs end as interrupted, not killed.</summary>
    private static readonly TimeSpan HostGrace = TimeSpan.FromSeconds(10);

    /// <summary>PostgreSQL storage's schema: Hangfire's tables beside the catalog's, in the same database.</summary>
    public const string PostgreSqlSchema = "hangfire";

    /// <summary>
    /// The storage of <see cref="StorageOptions"/> (in memory, or PostgreSQL), and a server whose workers and stop
    /// timeout come from validated <see cref="HangfireOptions"/>, run only on nodes that run jobs (<see cref="NodeOptions"/>).
    /// </summary>
    public static IServiceCollection AddIngestJobs(this IServiceCollection services)
    {
        services.AddOptions<HangfireOptions>().BindConfiguration(HangfireOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHangfire((provider, config) =>
        {
            config
                .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            var storage = provider.GetRequiredService<IOptions<StorageOptions>>().Value;
            if (storage.Provider is StorageProvider.PostgreSql)
            {
                config.UsePostgreSqlStorage(connection => connection.UseNpgsqlConnection(storage.ConnectionString), new PostgreSqlStorageOptions
                {
                    SchemaName = PostgreSqlSchema,
                    PrepareSchemaIfNecessary = true,

                    // A running job keeps its claim by heartbeat, however long it runs; a dead worker's job is free again
                    // once the heartbeat stops for the invisibility timeout (5 min by default).
                    UseSlidingInvisibilityTimeout = true,

                    // Workers wait on LISTEN for a new job instead of polling the queue every 15 s.
                    EnableLongPolling = true,
                });
            }
            else
            {
                config.UseInMemoryStorage();
            }

            // Hangfire's filters are global (one list per process); each host adds one for the sessions it runs.
            GlobalJobFilters.Filters.Add(new IngestJobStates(provider.GetRequiredService<SessionControl>()), IngestJobStates.Order);
        });
        services.AddHangfireServer((provider, server) =>
        {
            var options = provider.GetRequiredService<IOptions<HangfireOptions>>().Value;
            server.WorkerCount = options.WorkerCount;
            server.ShutdownTimeout = options.ShutdownTimeout;
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
        });

        // A web node runs no server. The role is read from options when the host starts (so test hosts and
        // configuration providers added late count), not from configuration at registration.
        var server = services.Last(descriptor => descriptor.ServiceType == typeof(IHostedService));
        services.Remove(server);
        services.AddSingleton<IHostedService>(provider => provider.GetRequiredService<IOptions<NodeOptions>>().Value.RunsJobs
            ? (IHostedService)server.ImplementationFactory!(provider)
            : new NothingToStart());
        services.AddOptions<HostOptions>().Configure<IOptions<HangfireOptions>>((host, hangfire) =>
            host.ShutdownTimeout = hangfire.Value.ShutdownTimeout + HostGrace);
        return services;
    }

    /// <summary>
    /// The dashboard at <paramref name="path"/>, with IngestLite's pages and routes in it: local requests only
    /// unless <see cref="HangfireOptions.DashboardAllowRemote"/>.
    /// </summary>
    public static IApplicationBuilder UseIngestDashboard(this IApplicationBuilder app, string path)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<HangfireOptions>>().Value;
        IngestLite.Dashboard.IngestDashboard.Register(GlobalConfiguration.Configuration, path);
        return app.UseHangfireDashboard(path, new DashboardOptions
        {
            Authorization = options.DashboardAllowRemote ? [new AllowAllDashboardAuthorization()] : [new LocalRequestsOnlyAuthorizationFilter()],
            DisplayStorageConnectionString = false,
        });
    }

    /// <summary>Used only when the operator opts in to a remote dashboard.</summary>
    private sealed class AllowAllDashboardAuthorization : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => true;
    }
}

using IngestLite.Progress;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace IngestLite.Tests.Support;

/// <summary>A node's registry on a PostgreSQL database, started: what a worker's job reports through, without the app around it.</summary>
public static class BackplaneNode
{
    public static async Task<PostgresProgressRegistry> StartAsync(string connectionString, string name, TimeSpan? lease = null, TimeSpan? pace = null)
    {
        var streams = new StreamOptions { MinEventInterval = pace ?? new StreamOptions().MinEventInterval };
        var node = new PostgresProgressRegistry(
            NpgsqlDataSource.Create(connectionString), name, lease ?? TimeSpan.FromSeconds(30), new Fixed<StreamOptions>(streams),
            TimeProvider.System, NullLogger<PostgresProgressRegistry>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await node.StartAsync(timeout.Token);
        return node;
    }

    private sealed class Fixed<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}

using IdentityHub.Data.Cluster;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IdentityHub.Data.PostgreSql;

/// <summary>
/// Changes between nodes through PostgreSQL's own LISTEN/NOTIFY: a NOTIFY reaches every listening node within milliseconds
/// of being sent, and needs no table. Each node listens on one dedicated connection outside any pool.
/// </summary>
public sealed class PostgreSqlBackplane(IServiceScopeFactory scopes, ILogger<PostgreSqlBackplane> logger) : IClusterBackplane
{
    public const string Channel = "identityhub_changes";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(30);

    private string? _connectionString;

    public async Task SendAsync(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(cancellationToken);
        foreach (var payload in ClusterMessage.Encode(from, changes))
        {
            await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
            notify.Parameters.AddWithValue("channel", Channel);
            notify.Parameters.AddWithValue("payload", payload);
            await notify.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public async Task ReceiveAsync(
        ClusterNodeIdentity self, Func<IReadOnlyCollection<ClusterChange>, Task> onChanges, Func<Task> onGap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(onChanges);
        ArgumentNullException.ThrowIfNull(onGap);
        var retry = FirstRetry;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(self, onChanges, onGap, () => retry = FirstRetry, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException or TimeoutException)
            {
                logger.LogWarning(ex, "Lost the connection that listens for other nodes' changes; listening again in {Retry}", retry);
                await Task.Delay(retry, cancellationToken);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
            }
        }
    }

    private async Task ListenAsync(
        ClusterNodeIdentity self,
        Func<IReadOnlyCollection<ClusterChange>, Task> onChanges,
        Func<Task> onGap,
        Action onListening,
        CancellationToken cancellationToken)
    {
        // Its own connection, never returned to a pool; keep-alives notice a dead server while nothing arrives.
        var listenerString = new NpgsqlConnectionStringBuilder(ConnectionString())
        {
            Pooling = false,
            KeepAlive = 15,
            ApplicationName = "IdentityHub cluster listener",
        }.ConnectionString;
        await using var connection = new NpgsqlConnection(listenerString);
        var received = new List<ClusterChange>();
        connection.Notification += (_, e) =>
        {
            if (e.Channel == Channel && ClusterMessage.Decode(e.Payload) is { } message && message.Node != self.Id)
            {
                received.AddRange(message.ToChanges());
            }
        };
        await connection.OpenAsync(cancellationToken);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }

        onListening();
        // Whatever was sent before this LISTEN (at start, or while the connection was down) was not heard.
        await onGap();
        while (true)
        {
            await connection.WaitAsync(cancellationToken);
            if (received.Count > 0)
            {
                IReadOnlyCollection<ClusterChange> batch = [.. received];
                received.Clear();
                await onChanges(batch);
            }
        }
    }

    private string ConnectionString()
    {
        if (_connectionString is null)
        {
            using var scope = scopes.CreateScope();
            _connectionString = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Database.GetConnectionString()
                ?? throw new InvalidOperationException("The database context has no connection string to listen on.");
        }

        return _connectionString;
    }
}

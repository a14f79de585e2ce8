namespace IdentityHub.Data.Cluster;

/// <summary>
/// How committed changes travel between the nodes of one database: PostgreSQL LISTEN/NOTIFY, a polled
/// <see cref="ClusterSignal"/> table on SQL Server and SQLite, or Redis pub/sub where an operator configures it.
/// What differs per provider lives in that provider's project, registered with the provider.
/// </summary>
public interface IClusterBackplane
{
    /// <summary>Sends changes that have been committed to every other node.</summary>
    Task SendAsync(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken);

    /// <summary>
    /// Receives the other nodes' changes until cancelled, calling <paramref name="onChanges"/> for each batch (never with
    /// this node's own), and <paramref name="onGap"/> when changes may have been missed (start, connection lost and back),
    /// after which a receiver drops everything it caches.
    /// </summary>
    Task ReceiveAsync(
        ClusterNodeIdentity self,
        Func<IReadOnlyCollection<ClusterChange>, Task> onChanges,
        Func<Task> onGap,
        CancellationToken cancellationToken);
}

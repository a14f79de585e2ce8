namespace IdentityHub.Data.Cluster;

/// <summary>
/// A change written for the nodes that poll for them (SQL Server, SQLite): each node reads the rows after the last one it
/// saw. Rows are pruned after a few minutes; they carry no data, only what to reload.
/// </summary>
public sealed class ClusterSignal
{
    public long Id { get; set; }

    public ClusterTopic Topic { get; set; }

    public string Key { get; set; } = string.Empty;

    /// <summary>The <see cref="ClusterNodeIdentity.Id"/> of the node that wrote it; that node ignores it.</summary>
    public required string Node { get; set; }

    public DateTimeOffset At { get; set; }
}

/// <summary>
/// A running node, as it last said: written at start, every few seconds while it runs, and when what it publishes changes,
/// so a rotation can wait until every live node publishes the new key before it signs with it.
/// </summary>
public sealed class ClusterNode
{
    /// <summary>The <see cref="ClusterNodeIdentity.Id"/>, new at every start.</summary>
    public required string Id { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    /// <summary>Its last heartbeat; a node not seen for a while is taken as gone.</summary>
    public DateTimeOffset SeenAt { get; set; }

    /// <summary>The key ids (kid) of every key the node publishes now, space-separated.</summary>
    public string PublishedKeyIds { get; set; } = string.Empty;

    /// <summary>The node is shutting down: it finishes what it has and takes nothing new.</summary>
    public bool Draining { get; set; }
}

/// <summary>The default for one node alone: nothing to send, nothing to receive.</summary>
public sealed class SingleNodeBackplane : IClusterBackplane
{
    public Task SendAsync(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ReceiveAsync(
        ClusterNodeIdentity self, Func<IReadOnlyCollection<ClusterChange>, Task> onChanges, Func<Task> onGap, CancellationToken cancellationToken) =>
        Task.Delay(Timeout.Infinite, cancellationToken);
}

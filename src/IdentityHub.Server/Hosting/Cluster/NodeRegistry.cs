using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Hosting.Cluster;

/// <summary>How often a node says it is alive (<c>Cluster:HeartbeatInterval</c>); unseen for three intervals, it counts as gone.</summary>
public sealed record NodeRegistrySettings(TimeSpan HeartbeatInterval)
{
    /// <summary>Rows unseen this long are deleted by any node: a node that crashed never deletes its own.</summary>
    public static readonly TimeSpan PruneAfter = TimeSpan.FromHours(1);

    public TimeSpan LiveWithin => HeartbeatInterval * 3;

    public static NodeRegistrySettings Read(IConfiguration configuration)
    {
        var heartbeat = KeySettings.ReadDuration(configuration, "Cluster:HeartbeatInterval", TimeSpan.FromSeconds(5));
        return heartbeat > TimeSpan.Zero
            ? new NodeRegistrySettings(heartbeat)
            : throw new StartupException("Cluster:HeartbeatInterval must be a positive duration.");
    }
}

/// <summary>A node another node may rely on: seen recently, and the key ids it publishes.</summary>
public sealed record LiveNode(string Id, string Name, DateTimeOffset SeenAt, IReadOnlySet<string> PublishedKeyIds);

/// <summary>
/// This node's row in <c>ClusterNodes</c>: written at start, every heartbeat, and right after its key ring changed, so a
/// rotation on any node can see which keys every live node publishes before a new key signs. Deleted on a graceful
/// stop; rows of nodes that vanished are pruned after an hour.
/// </summary>
public sealed class NodeRegistry(
    IServiceScopeFactory scopes,
    ClusterNodeIdentity node,
    KeyRing ring,
    NodeRegistrySettings settings,
    TimeProvider clock,
    ILogger<NodeRegistry> logger) : BackgroundService
{
    // One write at a time, so an older key list can never overwrite a newer one.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private DateTimeOffset _startedAt;

    public NodeRegistrySettings Settings => settings;

    /// <summary>Every key id this node publishes now (signing and encryption), as the ring says.</summary>
    public IReadOnlySet<string> PublishedHere() =>
        ring.Current.Signing.Concat(ring.Current.Encryption).Select(k => k.Id).ToHashSet(StringComparer.Ordinal);

    /// <summary>Writes this node's row now: seen, and what it publishes.</summary>
    public async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            var now = clock.GetUtcNow();
            if (_startedAt == default)
            {
                _startedAt = now;
            }

            var published = string.Join(' ', PublishedHere().Order(StringComparer.Ordinal));
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var updated = await db.ClusterNodes.Where(n => n.Id == node.Id).ExecuteUpdateAsync(
                set => set.SetProperty(n => n.SeenAt, now).SetProperty(n => n.PublishedKeyIds, published).SetProperty(n => n.Name, node.Name),
                cancellationToken);
            if (updated == 0)
            {
                // First heartbeat, or another node pruned the row while this one was suspended for an hour.
                db.ClusterNodes.Add(new ClusterNode { Id = node.Id, Name = node.Name, StartedAt = _startedAt, SeenAt = now, PublishedKeyIds = published });
                await db.SaveChangesAsync(cancellationToken);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Asks the heartbeat loop to write now (the key ring changed); returns at once.</summary>
    public void RequestHeartbeat()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A heartbeat is already due: one write covers both.
        }
    }

    /// <summary>The nodes seen within three heartbeats, this one included when its row is fresh.</summary>
    public async Task<IReadOnlyList<LiveNode>> LiveNodesAsync(CancellationToken cancellationToken)
    {
        var since = clock.GetUtcNow() - settings.LiveWithin;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var rows = await db.ClusterNodes.AsNoTracking().Where(n => n.SeenAt >= since).ToListAsync(cancellationToken);
        return [.. rows.Select(n => new LiveNode(
            n.Id, n.Name, n.SeenAt,
            n.PublishedKeyIds.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)))];
    }

    /// <summary>The first heartbeat, before the server takes requests: a rotation elsewhere waits for this node from now on.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await HeartbeatAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogError(ex, "Could not register this node ({Node}) in ClusterNodes; retrying every {Interval}", node.Name, settings.HeartbeatInterval);
        }

        await base.StartAsync(cancellationToken);
    }

    /// <summary>On a graceful stop the row goes at once, so no rotation waits for a node that has left.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            await db.ClusterNodes.Where(n => n.Id == node.Id).ExecuteDeleteAsync(cancellationToken);
            logger.LogInformation("Node {Node} left the cluster registry", node.Name);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not remove this node ({Node}) from ClusterNodes; it counts as gone after {Live}", node.Name, settings.LiveWithin);
        }
    }

    public override void Dispose()
    {
        _writing.Dispose();
        _wake.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(settings.HeartbeatInterval, stoppingToken);
                await HeartbeatAsync(stoppingToken);
                await PruneAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop the heartbeat: other nodes see this one as gone until it is back.
                logger.LogWarning(ex, "The heartbeat of node {Node} failed; retrying in {Interval}", node.Name, settings.HeartbeatInterval);
            }
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow() - NodeRegistrySettings.PruneAfter;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var pruned = await db.ClusterNodes.Where(n => n.SeenAt < before && n.Id != node.Id).ExecuteDeleteAsync(cancellationToken);
        if (pruned > 0)
        {
            logger.LogInformation("Pruned {Count} node(s) unseen for {Age} from ClusterNodes", pruned, NodeRegistrySettings.PruneAfter);
        }
    }
}

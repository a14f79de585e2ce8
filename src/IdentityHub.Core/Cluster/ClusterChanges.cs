using System.Collections.Immutable;
using IdentityHub.Data.Cluster;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Core.Cluster;

/// <summary>
/// The one way a node tells the others that something they cache has changed, and hears of their changes: this node's
/// subscribers run at once, the other nodes' through the <see cref="IClusterBackplane"/> within about a second.
/// Subscribers get the changed key, or null when anything of the topic may have changed (a gap in what was received).
/// </summary>
public sealed class ClusterChanges(IClusterBackplane backplane, ClusterNodeIdentity node, ILogger<ClusterChanges> logger)
{
    private ImmutableArray<(ClusterTopic Topic, Action<string?> OnChange)> _subscribers = [];

    public ClusterNodeIdentity Node => node;

    /// <summary>Calls <paramref name="onChange"/> for every change of <paramref name="topic"/>, on this node or another.</summary>
    public IDisposable Subscribe(ClusterTopic topic, Action<string?> onChange)
    {
        var subscriber = (topic, onChange);
        ImmutableInterlocked.Update(ref _subscribers, list => list.Add(subscriber));
        return new Unsubscriber(() => ImmutableInterlocked.Update(ref _subscribers, list => list.Remove(subscriber)));
    }

    /// <summary>
    /// After the commit: applies the changes here, then sends them to the other nodes. A backplane failure is logged, not
    /// thrown — the change is committed, and the other nodes' periodic checks still pick it up.
    /// </summary>
    public async Task PublishAsync(IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken)
    {
        if (changes.Count == 0)
        {
            return;
        }

        Apply(changes);
        try
        {
            await backplane.SendAsync(node, changes, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Could not tell the other nodes of {Count} change(s); they pick them up at their next periodic check", changes.Count);
        }
    }

    /// <summary>Changes another node made (from the backplane).</summary>
    public void Apply(IReadOnlyCollection<ClusterChange> changes)
    {
        foreach (var change in changes)
        {
            Notify(change.Topic, change.Key);
        }
    }

    /// <summary>Changes may have been missed: every subscriber drops what it caches.</summary>
    public void ApplyGap()
    {
        foreach (var topic in Enum.GetValues<ClusterTopic>())
        {
            Notify(topic, null);
        }
    }

    private void Notify(ClusterTopic topic, string? key)
    {
        foreach (var (subscribed, onChange) in _subscribers)
        {
            if (subscribed != topic)
            {
                continue;
            }

            try
            {
                onChange(key);
            }
            catch (Exception ex)
            {
                // One subscriber's failure must not keep the others stale.
                logger.LogError(ex, "A subscriber to {Topic} changes failed", topic);
            }
        }
    }

    private sealed class Unsubscriber(Action unsubscribe) : IDisposable
    {
        public void Dispose() => unsubscribe();
    }
}

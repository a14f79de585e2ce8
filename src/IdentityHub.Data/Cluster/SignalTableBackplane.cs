using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Data.Cluster;

/// <summary>
/// Changes between nodes through the <see cref="ClusterSignal"/> table, for databases without a notification channel
/// (SQL Server, SQLite): a sender inserts rows, every node polls every <see cref="ClusterPolling.Interval"/> for rows after
/// the last it saw. Ids are drawn at insert but become visible at commit, possibly out of order, so each poll re-reads a
/// window of recent ids and skips those already handled: a late commit is not skipped.
/// </summary>
public sealed class SignalTableBackplane(
    IServiceScopeFactory scopes, IOptions<ClusterPolling> polling, TimeProvider clock, ILogger<SignalTableBackplane> logger) : IClusterBackplane
{
    /// <summary>How many ids below the highest one seen are read again; far more than transactions can be open at once.</summary>
    public const int Window = 1000;

    /// <summary>Rows older than this are deleted; a node that missed them has had a gap (and dropped its caches) long since.</summary>
    public static readonly TimeSpan Keep = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);

    public async Task SendAsync(ClusterNodeIdentity from, IReadOnlyCollection<ClusterChange> changes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(changes);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var now = clock.GetUtcNow();
        db.ClusterSignals.AddRange(changes.Distinct().Select(c => new ClusterSignal { Topic = c.Topic, Key = c.Key, Node = from.Id, At = now }));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task ReceiveAsync(
        ClusterNodeIdentity self, Func<IReadOnlyCollection<ClusterChange>, Task> onChanges, Func<Task> onGap, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(self);
        ArgumentNullException.ThrowIfNull(onChanges);
        ArgumentNullException.ThrowIfNull(onGap);
        var seen = new HashSet<long>();
        long highest = -1;
        var nextPrune = DateTimeOffset.MinValue;
        var failing = false;
        while (true)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
                if (highest < 0)
                {
                    // At start, what is already there happened before this node listened: taken as seen, then one gap.
                    highest = await db.ClusterSignals.MaxAsync(s => (long?)s.Id, cancellationToken) ?? 0;
                    seen.UnionWith(await RecentIdsAsync(db, highest, cancellationToken));
                    await onGap();
                }

                var floor = highest - Window;
                var rows = await db.ClusterSignals.AsNoTracking().Where(s => s.Id > floor).OrderBy(s => s.Id)
                    .Select(s => new { s.Id, s.Topic, s.Key, s.Node }).ToListAsync(cancellationToken);
                var fresh = rows.Where(r => seen.Add(r.Id)).ToList();
                if (rows.Count > 0)
                {
                    highest = Math.Max(highest, rows[^1].Id);
                    seen.RemoveWhere(id => id <= highest - Window);
                }

                if (failing)
                {
                    failing = false;
                    await onGap();
                }

                if (fresh.Where(r => r.Node != self.Id).Select(r => new ClusterChange(r.Topic, r.Key)).Distinct().ToList() is { Count: > 0 } changes)
                {
                    await onChanges(changes);
                }

                if (clock.GetUtcNow() >= nextPrune)
                {
                    nextPrune = clock.GetUtcNow() + PruneEvery;
                    var before = clock.GetUtcNow() - Keep;
                    await db.ClusterSignals.Where(s => s.At < before).ExecuteDeleteAsync(cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Until the database answers again this node hears nothing; once it does, it drops what it caches.
                if (!failing)
                {
                    logger.LogWarning(ex, "Could not read the other nodes' changes; trying again every {Interval}", polling.Value.Interval);
                }

                failing = true;
            }

            await Task.Delay(polling.Value.Interval, clock, cancellationToken);
        }
    }

    private static Task<List<long>> RecentIdsAsync(IdentityHubDbContext db, long highest, CancellationToken cancellationToken)
    {
        var floor = highest - Window;
        return db.ClusterSignals.Where(s => s.Id > floor).Select(s => s.Id).ToListAsync(cancellationToken);
    }
}

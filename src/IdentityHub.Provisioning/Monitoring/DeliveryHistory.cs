using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Monitoring;

/// <summary>
/// What a delivery attempt came to, as the console and the API name it: the target accepted what was sent, nothing
/// needed sending (the target does not know the user and should not; no call was made), or it failed.
/// </summary>
public static class DeliveryOutcomes
{
    public const string Delivered = "delivered";
    public const string NothingToSend = "nothing-to-send";
    public const string Failed = "failed";

    public static string Of(bool succeeded, bool nothingSent) => succeeded ? Delivered : nothingSent ? NothingToSend : Failed;
}

/// <summary>What one pruning pass removed.</summary>
public sealed record HistoryPruned(int Attempts, int Runs);

/// <summary>
/// Keeps the provisioning history bounded (Provisioning:HistoryRetention): delivery attempts older than the threshold go,
/// and so do older reconciliation runs, except the latest of each kind per connector (the console's current report).
/// Queued and dead-lettered outbox rows are never pruned: they are work, not history.
/// </summary>
public sealed class DeliveryHistory(IdentityHubDbContext db)
{
    /// <summary>Rows deleted per statement, so a first pass over a large table does not hold one long lock.</summary>
    private const int Chunk = 5000;

    public async Task<HistoryPruned> PruneAsync(DateTimeOffset olderThan, CancellationToken cancellationToken)
    {
        var attempts = 0;
        int deleted;
        do
        {
            deleted = await db.DeliveryAttempts.Where(a => a.At < olderThan).OrderBy(a => a.Id).Take(Chunk).ExecuteDeleteAsync(cancellationToken);
            attempts += deleted;
        }
        while (deleted == Chunk);

        var runs = await db.ReconciliationRuns
            .Where(r => r.StartedAt < olderThan && db.ReconciliationRuns.Any(n => n.ConnectorId == r.ConnectorId && n.Kind == r.Kind && n.StartedAt > r.StartedAt))
            .ExecuteDeleteAsync(cancellationToken);
        return new HistoryPruned(attempts, runs);
    }
}

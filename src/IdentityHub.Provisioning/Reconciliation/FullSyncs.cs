using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// Full syncs, for every connector kind: queue every user the connector hears of (<see cref="ConnectorAudience"/>), so
/// the dispatcher delivers each one's current state with its order, versions and retries; progress counts those rows
/// as the dispatcher clears them. A new connector gets one at creation (its initial sync), on demand, and on the schedule.
/// A kind may add a step of its own (<see cref="IFullSyncStep"/>), run before the users are queued.
/// </summary>
public sealed class FullSyncs(
    IdentityHubDbContext db, ConnectorAudience audience, IEnumerable<IFullSyncStep> steps, AuditTrail audit, CurrentActor actor, TimeProvider clock)
{
    private const string ChangePrefix = "full-sync:";

    /// <summary>Starts a full sync of the connector now (its kind's own step first, if any), audited, in a transaction of its own.</summary>
    public async Task<FullSyncProgress> StartAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectorId, cancellationToken)
            ?? throw RuleViolation.NotFound("connector", connectorId);
        // Outside the transaction: the step calls the target, and the users are queued whatever it achieved.
        var stepDone = steps.FirstOrDefault(s => s.Kind == connector.Kind) is { } step
            ? await step.RunAsync(connector, cancellationToken)
            : new Dictionary<string, object?>();
        FullSyncProgress? progress = null;
        await db.InTransactionAsync(async () =>
        {
            // Taken before the audience is read: a grant committing meanwhile either is seen here or waits, and is queued by itself.
            await audit.SerializeAsync(cancellationToken);
            progress = await QueueAsync(connector, always: true, cancellationToken);
            var record = new Dictionary<string, object?>(StringComparer.Ordinal) { ["run"] = progress!.RunId, ["users"] = progress.Total };
            foreach (var (field, value) in stepDone)
            {
                record.TryAdd(field, value);
            }

            await audit.RecordAsync("connector.full-sync", "connector", connectorId.ToString(), null, record, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return progress!;
    }

    /// <summary>
    /// Adds the run and its rows to the caller's transaction (saved by its SaveChanges; the caller audits). With
    /// <paramref name="always"/> false (a new connector) a run is recorded only when there is someone to provision.
    /// </summary>
    public async Task<FullSyncProgress?> QueueAsync(Connector connector, bool always, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var userIds = await audience.Of(connector).ToListAsync(cancellationToken);
        if (userIds.Count == 0 && !always)
        {
            return null;
        }

        var now = clock.GetUtcNow();
        var run = new ReconciliationRun
        {
            Id = Guid.NewGuid(), ConnectorId = connector.Id, Kind = ReconciliationKind.FullSync, StartedAt = now,
            Total = userIds.Count, RequestedBy = actor.Value.Name, FinishedAt = userIds.Count == 0 ? now : null,
        };
        db.ReconciliationRuns.Add(run);
        var change = ChangeOf(run.Id);
        foreach (var userId in userIds)
        {
            db.Outbox.Add(new OutboxEntry { ConnectorId = connector.Id, UserId = userId, Change = change, CreatedAt = now, DueAt = now, Status = OutboxStatus.Pending });
        }

        return new FullSyncProgress(run.Id, connector.Id, run.StartedAt, run.FinishedAt, run.Total, 0, 0, run.RequestedBy);
    }

    /// <summary>The latest full sync of a connector with its live progress, or null when none ran.</summary>
    public async Task<FullSyncProgress?> ProgressAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var run = await db.ReconciliationRuns
            .Where(r => r.ConnectorId == connectorId && r.Kind == ReconciliationKind.FullSync)
            .OrderByDescending(r => r.StartedAt).FirstOrDefaultAsync(cancellationToken);
        if (run is null)
        {
            return null;
        }

        var change = ChangeOf(run.Id);
        var left = await db.Outbox.Where(o => o.ConnectorId == connectorId && o.Change == change)
            .GroupBy(o => o.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var pending = left.Where(l => l.Status == OutboxStatus.Pending).Sum(l => l.Count);
        var dead = left.Where(l => l.Status == OutboxStatus.Dead).Sum(l => l.Count);
        if (pending == 0 && run.FinishedAt is null)
        {
            run.FinishedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }

        return new FullSyncProgress(run.Id, connectorId, run.StartedAt, run.FinishedAt, run.Total, Math.Max(run.Total - pending, 0), dead, run.RequestedBy);
    }

    private static string ChangeOf(Guid runId) => ChangePrefix + runId.ToString("N");
}

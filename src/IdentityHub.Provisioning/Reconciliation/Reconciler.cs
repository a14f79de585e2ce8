using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// Drift reports and their fix, for the connector kinds whose target can be listed (<see cref="IConnectorDrift"/>).
/// Fixing never calls the target for IdentityHub's own users: it queues outbox rows, as new versions, so the dispatcher's
/// order, versions and retries hold. A kind without a list (webhooks) gets a report that says why there is none.
/// </summary>
public sealed class Reconciler(
    IdentityHubDbContext db, IEnumerable<IConnectorDrift> drifts, ConnectorKinds kinds, ConnectorAudience audience, AuditTrail audit, CurrentActor actor,
    IOptions<ProvisioningOptions> options, TimeProvider clock)
{
    public const string FixChange = "reconcile.fix";

    /// <summary>Items per list a stored report keeps; the counts always tell the whole drift.</summary>
    public const int StoredItems = 100;

    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web);

    /// <summary>Whether connectors of <paramref name="kind"/> can be checked for drift (their target can be listed).</summary>
    public bool CanCheck(ConnectorKind kind) => drifts.Any(d => d.Kind == kind);

    /// <summary>Whether a fix of this connector removes the downstream accounts IdentityHub never provisioned (its settings say so).</summary>
    public async Task<bool> RemovesExtrasAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await ConnectorAsync(connectorId, cancellationToken);
        return drifts.FirstOrDefault(d => d.Kind == connector.Kind)?.RemovesExtras(connector) ?? false;
    }

    /// <summary>
    /// Reads the target now, stores the report (its lists bounded) as the connector's latest and returns it whole. For a
    /// kind that cannot be listed, a report saying so (<see cref="DriftReport.Unavailable"/>), stored nowhere.
    /// </summary>
    public async Task<DriftReport> CheckAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await ConnectorAsync(connectorId, cancellationToken);
        if (drifts.FirstOrDefault(d => d.Kind == connector.Kind) is not { } drift)
        {
            return DriftReport.NotAvailable(connectorId, clock.GetUtcNow(), NotListable(connector.Kind));
        }

        var run = new ReconciliationRun { Id = Guid.NewGuid(), ConnectorId = connectorId, Kind = ReconciliationKind.Drift, StartedAt = clock.GetUtcNow(), RequestedBy = actor.Value.Name };
        DriftReport report;
        try
        {
            var expected = await audience.Of(connector).ToListAsync(cancellationToken);
            report = await drift.CheckAsync(connector, expected, cancellationToken);
        }
        catch (ConnectorCallException failure)
        {
            run.Error = failure.Message.Length > 2000 ? failure.Message[..2000] : failure.Message;
            run.FinishedAt = clock.GetUtcNow();
            db.ReconciliationRuns.Add(run);
            await db.SaveChangesAsync(cancellationToken);
            throw;
        }

        run.FinishedAt = clock.GetUtcNow();
        run.Total = report.Compared;
        run.Report = JsonSerializer.Serialize(report.Bounded(StoredItems), ReportJson);
        db.ReconciliationRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return report;
    }

    /// <summary>The latest stored report of a connector, or null when none was made (or the last check failed).</summary>
    public async Task<DriftReport?> LatestAsync(Guid connectorId, CancellationToken cancellationToken) =>
        ReportOf(await Reported(DriftRuns(connectorId)).Select(r => r.Report).FirstOrDefaultAsync(cancellationToken));

    /// <summary>The latest report with who asked for it, a newer failed check if any, and the next scheduled check.</summary>
    public async Task<DriftStatus> DriftStatusAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var drift = DriftRuns(connectorId);
        var latest = await Reported(drift).Select(r => new { r.StartedAt, r.Report, r.RequestedBy }).FirstOrDefaultAsync(cancellationToken);
        var since = latest?.StartedAt ?? DateTimeOffset.MinValue;
        var failed = await drift.Where(r => r.Error != null && r.StartedAt > since).OrderByDescending(r => r.StartedAt)
            .Select(r => new { r.FinishedAt, r.Error }).FirstOrDefaultAsync(cancellationToken);
        DateTimeOffset? next = null;
        if (ReconciliationSchedule.Interval(options.Value.DriftCheckInterval) is { } interval)
        {
            var connector = await db.Connectors.AsNoTracking().Where(c => c.Id == connectorId).Select(c => new { c.NextDriftCheckAt, c.CreatedAt }).FirstOrDefaultAsync(cancellationToken);
            next = connector is null ? null : connector.NextDriftCheckAt ?? connector.CreatedAt + interval;
        }

        return new DriftStatus(ReportOf(latest?.Report), latest?.RequestedBy, failed?.FinishedAt, failed?.Error, next);
    }

    private IQueryable<ReconciliationRun> DriftRuns(Guid connectorId) =>
        db.ReconciliationRuns.AsNoTracking().Where(r => r.ConnectorId == connectorId && r.Kind == ReconciliationKind.Drift);

    /// <summary>The runs that stored a report, newest first.</summary>
    private static IQueryable<ReconciliationRun> Reported(IQueryable<ReconciliationRun> runs) =>
        runs.Where(r => r.Report != null).OrderByDescending(r => r.StartedAt);

    private static DriftReport? ReportOf(string? json) => json is null ? null : JsonSerializer.Deserialize<DriftReport>(json, ReportJson);

    /// <summary>
    /// Fixes a fresh report: queues a row for each of IdentityHub's users that is missing, different or must go; removes
    /// extras IdentityHub does not know (delete or deactivate, per the connector) only when the connector allows it.
    /// </summary>
    public async Task<DriftFix> FixAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await ConnectorAsync(connectorId, cancellationToken);
        if (drifts.FirstOrDefault(d => d.Kind == connector.Kind) is not { } drift)
        {
            throw new RuleViolation(ViolationKind.Conflict, NotListable(connector.Kind));
        }

        var report = await CheckAsync(connectorId, cancellationToken);
        var ours = report.Missing.Concat(report.Different).Concat(report.Extra).Select(i => i.UserId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var foreign = report.Extra.Where(i => i.UserId is null && i.ScimId is not null).ToList();
        var removed = await drift.RemoveExtrasAsync(connector, foreign, cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            await SendAsNewVersionsAsync(connectorId, ours, cancellationToken);
            var now = clock.GetUtcNow();
            foreach (var userId in ours)
            {
                db.Outbox.Add(new OutboxEntry { ConnectorId = connectorId, UserId = userId, Change = FixChange, CreatedAt = now, DueAt = now, Status = OutboxStatus.Pending });
            }

            await audit.RecordAsync("connector.drift-fixed", "connector", connectorId.ToString(), null,
                new { queued = ours.Count, extrasRemoved = removed, extrasKept = foreign.Count - removed }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return new DriftFix(ours.Count, removed, foreign.Count - removed);
    }

    /// <summary>
    /// Makes the fix's deliveries carry new versions: a target that drops a version (or an Idempotency-Key) it has seen would
    /// ignore the same one sent again, though what it holds is not what it was sent. The event part stays, so whether the
    /// receiver knows the user is unchanged (a user who must go is still removed).
    /// </summary>
    private async Task SendAsNewVersionsAsync(Guid connectorId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        var sent = await db.ConnectorUserStates.Where(s => s.ConnectorId == connectorId && userIds.Contains(s.UserId) && s.SentState != null).ToListAsync(cancellationToken);
        foreach (var state in sent)
        {
            // SentState is "{event}:{fingerprint}" (StateVersions): no state fingerprints as the fix's name, so the next delivery takes the next version.
            state.SentState = ProvisioningEvents.Of(state) + ":" + FixChange;
        }
    }

    private string NotListable(ConnectorKind kind) =>
        $"A {kinds.NameOf(kind)} connector's target cannot be read back: there is nothing to list, so drift cannot be checked. A full sync sends every user's current state again.";

    private async Task<Connector> ConnectorAsync(Guid connectorId, CancellationToken cancellationToken) =>
        await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectorId, cancellationToken)
            ?? throw RuleViolation.NotFound("connector", connectorId);
}

using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Dispatch;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// Drift reports, their fix, and full syncs of SCIM connectors. Fixing and syncing never call the target for
/// IdentityHub's own users: they queue outbox rows, so the dispatcher's order, versions and retries hold.
/// </summary>
public sealed class Reconciler(
    IdentityHubDbContext db, DriftCheck driftCheck, ScimSessions sessions, ConnectorSecrets secrets, AuditTrail audit, CurrentActor actor, IOptions<ProvisioningOptions> options,
    TimeProvider clock, RestDriftSource restDrift, RestConnectorTools restTools)
{
    public const string FixChange = "reconcile.fix";

    /// <summary>Items per list a stored report keeps; the counts always tell the whole drift.</summary>
    public const int StoredItems = 100;

    private const string FullSyncChangePrefix = "full-sync:";
    private static readonly JsonSerializerOptions ReportJson = new(JsonSerializerDefaults.Web);

    /// <summary>Reads the target now, stores the report (its lists bounded) as the connector's latest and returns it whole.</summary>
    public async Task<DriftReport> CheckAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await ScimConnectorAsync(connectorId, cancellationToken);
        var run = new ReconciliationRun { Id = Guid.NewGuid(), ConnectorId = connectorId, Kind = ReconciliationKind.Drift, StartedAt = clock.GetUtcNow(), RequestedBy = actor.Value.Name };
        DriftReport report;
        try
        {
            report = connector.Kind == ConnectorKind.Rest ? await restDrift.RunAsync(connector, cancellationToken) : await driftCheck.RunAsync(connector, cancellationToken);
        }
        catch (Exception failure) when (failure is ScimCallException or RestCallException)
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
        var connector = await ScimConnectorAsync(connectorId, cancellationToken);
        var report = await CheckAsync(connectorId, cancellationToken);
        var ours = report.Missing.Concat(report.Different).Concat(report.Extra).Select(i => i.UserId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var foreign = report.Extra.Where(i => i.UserId is null && i.ScimId is not null).ToList();
        // A REST vendor's extras are left alone: removing people IdentityHub never sent is the vendor administrator's call.
        var settings = connector.Kind == ConnectorKind.Scim ? ScimSessions.SettingsOf(connector) : new ScimSettings();
        var removed = 0;
        if (settings.RemoveExtras && foreign.Count > 0)
        {
            var session = await sessions.OpenAsync(settings, secrets.Unprotect(connector.ProtectedSecret), cancellationToken);
            foreach (var item in foreign)
            {
                await RemoveExtraAsync(session, item.ScimId!, cancellationToken);
                removed++;
            }
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (connector.Kind == ConnectorKind.Rest)
        {
            // A vendor that de-duplicates by version or Idempotency-Key ignores the same version sent again: the fix sends a new one.
            await db.ConnectorUserStates.Where(s => s.ConnectorId == connectorId && ours.Contains(s.UserId))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.SentState, (string?)null), cancellationToken);
        }

        Queue(connectorId, ours, FixChange);
        await audit.RecordAsync("connector.drift-fixed", "connector", connectorId.ToString(), null,
            new { queued = ours.Count, extrasRemoved = removed, extrasKept = foreign.Count - removed }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new DriftFix(ours.Count, removed, foreign.Count - removed);
    }

    /// <summary>
    /// Queues every user the application should know (holders of its roles or global roles, everyone when the connector
    /// provisions all users, and users it once delivered); progress counts those rows as the dispatcher clears them.
    /// </summary>
    public async Task<FullSyncProgress> StartFullSyncAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await ScimConnectorAsync(connectorId, cancellationToken);
        var allUsers = connector.Kind == ConnectorKind.Scim && ScimSessions.SettingsOf(connector).AllUsers;
        // A REST vendor first loses the departments deleted here (children before parents); a failed one waits for the next sync.
        var pruned = connector.Kind == ConnectorKind.Rest ? await restTools.DeleteVanishedDepartmentsAsync(connector, cancellationToken) : null;
        var applicationId = connector.ApplicationId;
        var users = allUsers
            ? db.Users.Select(u => u.Id)
            : db.RoleAssignments.Where(a => a.EndedAt == null && (a.Role!.ApplicationId == applicationId || a.Role.ApplicationId == null)).Select(a => a.UserId);
        var userIds = await users.Union(db.ConnectorUserStates.Where(s => s.ConnectorId == connectorId).Select(s => s.UserId)).Distinct().ToListAsync(cancellationToken);

        var run = new ReconciliationRun
        {
            Id = Guid.NewGuid(), ConnectorId = connectorId, Kind = ReconciliationKind.FullSync, StartedAt = clock.GetUtcNow(),
            Total = userIds.Count, RequestedBy = actor.Value.Name,
            FinishedAt = userIds.Count == 0 ? clock.GetUtcNow() : null,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.ReconciliationRuns.Add(run);
        Queue(connectorId, userIds, FullSyncChange(run.Id));
        await audit.RecordAsync("connector.full-sync", "connector", connectorId.ToString(), null,
            new { run = run.Id, users = userIds.Count, departmentsDeleted = pruned?.Deleted, departmentsNotDeleted = pruned?.Failed }, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new FullSyncProgress(run.Id, connectorId, run.StartedAt, run.FinishedAt, run.Total, 0, 0, run.RequestedBy);
    }

    /// <summary>The latest full sync of a connector with its live progress, or null when none ran.</summary>
    public async Task<FullSyncProgress?> FullSyncProgressAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var run = await db.ReconciliationRuns
            .Where(r => r.ConnectorId == connectorId && r.Kind == ReconciliationKind.FullSync)
            .OrderByDescending(r => r.StartedAt).FirstOrDefaultAsync(cancellationToken);
        if (run is null)
        {
            return null;
        }

        var change = FullSyncChange(run.Id);
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

    private static string FullSyncChange(Guid runId) => FullSyncChangePrefix + runId.ToString("N");

    private void Queue(Guid connectorId, IEnumerable<string> userIds, string change)
    {
        var now = clock.GetUtcNow();
        foreach (var userId in userIds)
        {
            db.Outbox.Add(new OutboxEntry { ConnectorId = connectorId, UserId = userId, Change = change, CreatedAt = now, DueAt = now, Status = OutboxStatus.Pending });
        }
    }

    private static async Task RemoveExtraAsync(ScimSession session, string scimId, CancellationToken cancellationToken)
    {
        var path = $"{ScimConnectorClient.UsersEndpoint}/{Uri.EscapeDataString(scimId)}";
        if (session.Settings.Deprovisioning == ScimDeprovisioning.Delete)
        {
            // RFC 7644 §3.6: 404 means someone removed it already.
            await session.SendAsync(HttpMethod.Delete, path, null, cancellationToken, 404);
            return;
        }

        // RFC 7644 §3.5.2.3: replace one attribute, leaving the rest of a user IdentityHub does not own alone.
        var patch = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "active", ["value"] = false }),
        };
        await session.SendAsync(HttpMethod.Patch, path, patch, cancellationToken, 404);
    }

    private async Task<Connector> ScimConnectorAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectorId, cancellationToken)
            ?? throw new ReconciliationException(404, "Connector not found", $"No connector {connectorId}.");
        return connector.Kind is ConnectorKind.Scim or ConnectorKind.Rest
            ? connector
            : throw new ReconciliationException(400, "Not a SCIM or REST connector", "Drift reports and full syncs read a SCIM list or a REST list operation; webhook receivers cannot be read back.");
    }
}

/// <summary>A request the reconciliation cannot serve (unknown connector, not SCIM); the API maps it to problem details.</summary>
public sealed class ReconciliationException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}

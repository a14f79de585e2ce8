using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Dispatch;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>What the reconciliation schedule runs per SCIM connector.</summary>
public enum ScheduledJob
{
    DriftCheck,
    FullSync,
}

/// <summary>
/// Reconciliation on a schedule, for every SCIM connector that is not paused: a drift check every
/// <c>Provisioning:DriftCheckInterval</c> (reads the target, stores the report; fixing stays an explicit request) and a
/// full sync every <c>Provisioning:FullSyncInterval</c>. Both are off by default. Every node runs the schedule; a run is
/// taken by a conditional update of the connector's next-run time, so exactly one node runs it, and while it runs the
/// time is held an hour ahead, so a slow run is never doubled by another node.
/// </summary>
public sealed class ReconciliationSchedule(IServiceScopeFactory scopes, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<ReconciliationSchedule> logger)
    : BackgroundService
{
    /// <summary>Who a scheduled run is recorded as requested by.</summary>
    public const string RequestedBy = "schedule";

    /// <summary>How long a taken run keeps the others off; a node that crashed mid-run is replaced after it.</summary>
    private static readonly TimeSpan RunLease = TimeSpan.FromHours(1);

    private static readonly TimeSpan LongestTick = TimeSpan.FromMinutes(1);

    /// <summary>A configured interval that switches the schedule on, or null (empty or zero: off).</summary>
    public static TimeSpan? Interval(TimeSpan? configured) => configured is { } interval && interval > TimeSpan.Zero ? interval : null;

    /// <summary>Runs every scheduled job that is due now and that this node takes; returns how many it ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var ran = 0;
        if (Interval(settings.DriftCheckInterval) is { } drift)
        {
            ran += await RunDueAsync(ScheduledJob.DriftCheck, drift, cancellationToken);
        }

        if (Interval(settings.FullSyncInterval) is { } fullSync)
        {
            ran += await RunDueAsync(ScheduledJob.FullSync, fullSync, cancellationToken);
        }

        return ran;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var intervals = new[] { Interval(settings.DriftCheckInterval), Interval(settings.FullSyncInterval) }.OfType<TimeSpan>().ToList();
        if (intervals.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(intervals.Append(LongestTick).Min() / 2, clock);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The scheduled reconciliation failed; it runs again at the next tick.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<int> RunDueAsync(ScheduledJob job, TimeSpan interval, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var now = clock.GetUtcNow();
        var due = await Due(db.Connectors.AsNoTracking(), job, now, interval).Select(c => c.Id).ToListAsync(cancellationToken);
        var ran = 0;
        foreach (var connectorId in due)
        {
            if (await TakeAsync(db, job, connectorId, interval, cancellationToken))
            {
                await RunAsync(job, connectorId, cancellationToken);
                // The next run is one interval after this one ended; this node holds the lease until then, so it may set it.
                await SetNextRunAsync(db.Connectors.Where(c => c.Id == connectorId), job, clock.GetUtcNow() + interval, cancellationToken);
                ran++;
            }
        }

        return ran;
    }

    /// <summary>Takes the due run of <paramref name="job"/> for one connector, as <see cref="RunDueAsync(CancellationToken)"/> does before running it; false when another node has it.</summary>
    public async Task<bool> TryTakeAsync(ScheduledJob job, Guid connectorId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var interval = Interval(job == ScheduledJob.DriftCheck ? settings.DriftCheckInterval : settings.FullSyncInterval)
            ?? throw new InvalidOperationException($"The {job} schedule is off.");
        await using var scope = scopes.CreateAsyncScope();
        return await TakeAsync(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>(), job, connectorId, interval, cancellationToken);
    }

    /// <summary>SCIM and REST connectors, not paused, whose next run is due (never run yet: one interval after the connector was created).</summary>
    private static IQueryable<Connector> Due(IQueryable<Connector> connectors, ScheduledJob job, DateTimeOffset now, TimeSpan interval)
    {
        var createdBefore = now - interval;
        var scim = connectors.Where(c => (c.Kind == ConnectorKind.Scim || c.Kind == ConnectorKind.Rest) && !c.Paused);
        return job == ScheduledJob.DriftCheck
            ? scim.Where(c => (c.NextDriftCheckAt == null && c.CreatedAt <= createdBefore) || c.NextDriftCheckAt <= now)
            : scim.Where(c => (c.NextFullSyncAt == null && c.CreatedAt <= createdBefore) || c.NextFullSyncAt <= now);
    }

    /// <summary>The lease: moves the next-run time past the run, only if it is still due; one node's update wins.</summary>
    private async Task<bool> TakeAsync(IdentityHubDbContext db, ScheduledJob job, Guid connectorId, TimeSpan interval, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var held = now + (interval > RunLease ? interval : RunLease);
        return await SetNextRunAsync(Due(db.Connectors, job, now, interval).Where(c => c.Id == connectorId), job, held, cancellationToken) == 1;
    }

    /// <summary>Sets the next-run time of <paramref name="job"/> on the connectors selected; returns how many were updated.</summary>
    private static Task<int> SetNextRunAsync(IQueryable<Connector> connectors, ScheduledJob job, DateTimeOffset next, CancellationToken cancellationToken) =>
        job == ScheduledJob.DriftCheck
            ? connectors.ExecuteUpdateAsync(s => s.SetProperty(c => c.NextDriftCheckAt, next), cancellationToken)
            : connectors.ExecuteUpdateAsync(s => s.SetProperty(c => c.NextFullSyncAt, next), cancellationToken);

    private async Task RunAsync(ScheduledJob job, Guid connectorId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentActor>().Value = Actor.System with { Name = RequestedBy };
        var reconciler = scope.ServiceProvider.GetRequiredService<Reconciler>();
        try
        {
            if (job == ScheduledJob.DriftCheck)
            {
                var report = await reconciler.CheckAsync(connectorId, cancellationToken);
                logger.LogInformation(
                    "Scheduled drift check of connector {ConnectorId}: {Missing} missing, {Extra} extra, {Different} different.",
                    connectorId, report.MissingCount, report.ExtraCount, report.DifferentCount);
            }
            else
            {
                var progress = await reconciler.StartFullSyncAsync(connectorId, cancellationToken);
                logger.LogInformation("Scheduled full sync of connector {ConnectorId}: {Users} users queued.", connectorId, progress.Total);
            }
        }
        catch (Exception ex) when (ex is ScimCallException or Connectors.Rest.RestCallException or ReconciliationException)
        {
            // The failed check is stored with its error (the console shows it); the schedule tries again next interval.
            logger.LogWarning("Scheduled {Job} of connector {ConnectorId} failed: {Error}", job, connectorId, ex.Message);
        }
    }
}

using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Inbound.Rest;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Inbound;

/// <summary>
/// The pull sources' schedule: every enabled REST source's increment every <c>intervalMinutes</c> and its reconciliation
/// nightly at <c>reconcileAt</c> (UTC). Every node looks every <c>Provisioning:SourcePollInterval</c>; a due run is taken
/// by a conditional update of <see cref="InboundSource.NextIncrementAt"/> or <see cref="InboundSource.NextReconciliationAt"/>,
/// so one node runs it. A source whose first import is not approved gets one dry run (its report waits for the
/// administrator) and nothing more. A failure is recorded on the run and logged; the next interval tries again.
/// </summary>
public sealed class SourceSchedule(
    IServiceScopeFactory scopes, RestSourceCompilerCache compiler, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<SourceSchedule> logger)
    : BackgroundService
{
    /// <summary>Who a scheduled run is recorded as requested by.</summary>
    public const string RequestedBy = "schedule";

    /// <summary>Runs every increment and reconciliation that is due now and that this node takes; returns how many it ran.</summary>
    public async Task<int> RunDueAsync(CancellationToken cancellationToken)
    {
        List<(Guid Id, bool Approved, string Settings, DateTimeOffset? NextIncrementAt, DateTimeOffset? NextReconciliationAt)> sources;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var now = clock.GetUtcNow();
            sources = [.. (await db.InboundSources.AsNoTracking()
                .Where(s => s.Kind == InboundSourceKind.Rest && s.Enabled
                    && (s.NextIncrementAt == null || s.NextIncrementAt <= now || s.NextReconciliationAt == null || s.NextReconciliationAt <= now))
                .Select(s => new { s.Id, s.FirstImportApproved, s.Settings, s.NextIncrementAt, s.NextReconciliationAt })
                .ToListAsync(cancellationToken))
                .Select(s => (s.Id, s.FirstImportApproved, s.Settings, s.NextIncrementAt, s.NextReconciliationAt))];
        }

        var ran = 0;
        foreach (var source in sources)
        {
            var settings = compiler.Compile(source.Settings).Settings;
            var interval = TimeSpan.FromMinutes(Math.Clamp(settings.IntervalMinutes, 1, 1440));
            var now = clock.GetUtcNow();
            if (source.NextReconciliationAt is null)
            {
                // Never scheduled: the first reconciliation is at the next reconcileAt.
                await TakeAsync(source.Id, ScheduledPull.Reconciliation, now, NextReconciliation(now, settings.ReconcileTime), cancellationToken);
            }
            else if (source.NextReconciliationAt <= now && source.Approved
                && await TakeAsync(source.Id, ScheduledPull.Reconciliation, now, NextReconciliation(now, settings.ReconcileTime), cancellationToken))
            {
                await RunAsync(source.Id, InboundRunKind.Reconciliation, cancellationToken);
                ran++;
                continue;
            }

            if ((source.NextIncrementAt is null || source.NextIncrementAt <= now)
                && await TakeAsync(source.Id, ScheduledPull.Increment, now, now + interval, cancellationToken)
                && (source.Approved || !await HasDryRunAsync(source.Id, cancellationToken)))
            {
                await RunAsync(source.Id, InboundRunKind.Increment, cancellationToken);
                ran++;
            }
        }

        return ran;
    }

    /// <summary>The first <paramref name="timeOfDay"/> (UTC) after <paramref name="now"/>.</summary>
    public static DateTimeOffset NextReconciliation(DateTimeOffset now, TimeSpan timeOfDay)
    {
        var today = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero) + timeOfDay;
        return today > now ? today : today.AddDays(1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = options.Value.SourcePollInterval;
        if (every <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(every, clock);
        do
        {
            try
            {
                await RunDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The sources' schedule failed; it looks again at the next tick.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private enum ScheduledPull
    {
        Increment,
        Reconciliation,
    }

    /// <summary>Moves the next-run time to <paramref name="next"/> only if it is still due (or unset): one node's update wins.</summary>
    private async Task<bool> TakeAsync(Guid sourceId, ScheduledPull pull, DateTimeOffset now, DateTimeOffset next, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var sources = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().InboundSources.Where(s => s.Id == sourceId);
        return pull == ScheduledPull.Increment
            ? await sources.Where(s => s.NextIncrementAt == null || s.NextIncrementAt <= now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.NextIncrementAt, next), cancellationToken) == 1
            : await sources.Where(s => s.NextReconciliationAt == null || s.NextReconciliationAt <= now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.NextReconciliationAt, next), cancellationToken) == 1;
    }

    private async Task<bool> HasDryRunAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().InboundRuns
            .AnyAsync(r => r.SourceId == sourceId && r.Kind == InboundRunKind.DryRun, cancellationToken);
    }

    private async Task RunAsync(Guid sourceId, InboundRunKind kind, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentActor>().Value = Actor.System with { Name = RequestedBy };
        try
        {
            var run = await scope.ServiceProvider.GetRequiredService<SourceRunner>().RunAsync(sourceId, kind, RequestedBy, cancellationToken);
            if (run.Failure is not null)
            {
                // The run holds the whole reason (the console shows it); the source's URL and secret stay out of the log.
                logger.LogWarning("Scheduled {Kind} of source {SourceId} failed; it runs again at the next interval. Run {RunId}.", run.Kind, sourceId, run.Id);
            }
            else
            {
                logger.LogInformation(
                    "Scheduled {Kind} of source {SourceId}: {Created} created, {Updated} updated, {Left} left, {Failed} failed.",
                    run.Kind, sourceId, run.Created, run.Updated, run.Left, run.Failed);
            }
        }
        catch (RuleViolation violation)
        {
            logger.LogWarning("Scheduled {Kind} of source {SourceId} did not run: {Reason}", kind, sourceId, violation.Title);
        }
    }

}

using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Provisioning.Reconciliation;

/// <summary>
/// Full syncs on a schedule (<c>Provisioning:FullSyncInterval</c>; empty or zero = off, the default): every active
/// SCIM connector whose last full sync is older than the interval gets one, so several nodes do not double it.
/// </summary>
public sealed class FullSyncSchedule(IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider clock, ILogger<FullSyncSchedule> logger) : BackgroundService
{
    public const string IntervalKey = "Provisioning:FullSyncInterval";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!TimeSpan.TryParse(configuration[IntervalKey], System.Globalization.CultureInfo.InvariantCulture, out var interval) || interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(interval.Ticks, TimeSpan.FromMinutes(5).Ticks)), clock);
        do
        {
            try
            {
                await RunDueAsync(interval, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The scheduled full sync failed; it runs again at the next tick.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task RunDueAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var since = clock.GetUtcNow() - interval;
        var due = await db.Connectors.AsNoTracking()
            .Where(c => c.Kind == ConnectorKind.Scim && !c.Paused)
            .Where(c => !db.ReconciliationRuns.Any(r => r.ConnectorId == c.Id && r.Kind == ReconciliationKind.FullSync && r.StartedAt > since))
            .Select(c => c.Id).ToListAsync(cancellationToken);
        foreach (var connectorId in due)
        {
            var progress = await scope.ServiceProvider.GetRequiredService<Reconciler>().StartFullSyncAsync(connectorId, cancellationToken);
            logger.LogInformation("Scheduled full sync of connector {ConnectorId}: {Users} users queued.", connectorId, progress.Total);
        }
    }
}

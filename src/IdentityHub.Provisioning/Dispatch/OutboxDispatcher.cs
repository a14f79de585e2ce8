using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Provisioning.Dispatch;

/// <summary>
/// The provisioning dispatcher: wakes when a transaction in this process commits (or every poll interval, for
/// other nodes' changes and retries), claims due rows per (connector, user), and delivers them, several users
/// in parallel, one delivery per user at a time. Rows are deleted only after success, so a crash loses nothing.
/// </summary>
public sealed class OutboxDispatcher(
    IServiceScopeFactory scopes, OutboxSignal signal, IOptions<ProvisioningOptions> options, ProvisioningMetrics metrics, TimeProvider clock,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan QueueGaugeRefresh = TimeSpan.FromSeconds(5);
    private DateTimeOffset _queueGaugeAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.DispatcherEnabled)
        {
            logger.LogInformation("The provisioning dispatcher is switched off on this node (Provisioning:DispatcherEnabled).");
            return;
        }

        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await RunOnceAsync(stoppingToken);
                await RefreshQueueGaugeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database is unreachable or busy, or a bug: nothing was lost (rows stay), and a dispatcher that
                // threw would stop the whole host (BackgroundServiceExceptionBehavior.StopHost). Try again at the next poll.
                logger.LogWarning(ex, "The provisioning dispatcher could not claim or record deliveries; retrying at the next poll.");
            }

            if (claimed == 0)
            {
                try
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>One round: claim a batch and deliver it; returns the number of (connector, user) pairs claimed.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        IReadOnlyList<ClaimedPair> pairs;
        await using (var scope = scopes.CreateAsyncScope())
        {
            pairs = await scope.ServiceProvider.GetRequiredService<OutboxClaims>()
                .ClaimAsync(settings.EffectiveNodeName, settings.BatchSize, settings.ClaimTimeout, cancellationToken);
        }

        if (pairs.Count == 0)
        {
            return 0;
        }

        await Parallel.ForEachAsync(
            pairs,
            new ParallelOptions { MaxDegreeOfParallelism = settings.MaxParallelDeliveries, CancellationToken = cancellationToken },
            async (pair, ct) =>
            {
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    await scope.ServiceProvider.GetRequiredService<PairDelivery>().DeliverAsync(pair, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One user's failure must not abandon the rest of the batch; its rows come back when the claim lapses.
                    logger.LogError(ex, "Delivering user {UserId} to connector {ConnectorId} failed unexpectedly.", pair.UserId, pair.ConnectorId);
                }
            });
        return pairs.Count;
    }

    private async Task RefreshQueueGaugeAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (now - _queueGaugeAt < QueueGaugeRefresh)
        {
            return;
        }

        _queueGaugeAt = now;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var pending = await db.Outbox.CountAsync(o => o.Status == OutboxStatus.Pending, cancellationToken);
        var dead = await db.Outbox.CountAsync(o => o.Status == OutboxStatus.Dead, cancellationToken);
        metrics.SetQueue(pending, dead);
    }
}

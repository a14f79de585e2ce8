using IdentityHub.Core.Access;

namespace IdentityHub.Server.Access;

/// <summary>Records assignments whose end date has passed, on a timer (Access:ExpiryInterval, default 30 s).</summary>
public sealed class AssignmentExpiryService(IServiceScopeFactory scopes, IConfiguration configuration, ILogger<AssignmentExpiryService> logger, TimeProvider clock)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Access:ExpiryInterval", TimeSpan.FromSeconds(30));
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var recorded = await scope.ServiceProvider.GetRequiredService<AssignmentExpiry>().RecordExpiredAsync(stoppingToken);
                if (recorded > 0)
                {
                    logger.LogInformation("Recorded {Count} expired role assignment(s)", recorded);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A failed round is retried at the next tick; expiry is recorded late, never lost.
                logger.LogWarning(ex, "Recording expired role assignments failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

using IdentityHub.Core.Cluster;
using IdentityHub.Core.Sessions;
using IdentityHub.Data;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Oidc.BackchannelLogout;

/// <summary>
/// Delivers queued logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.5) by POST, with exponential
/// backoff between attempts and a bounded number of them; what is due survives restarts in the database. On stop it
/// claims nothing new, and a POST in flight finishes and is recorded (until <see cref="NodeShutdown.InFlightDeadline"/>).
/// </summary>
public sealed class BackchannelLogoutSender(
    IServiceScopeFactory scopes, IHttpClientFactory httpClients, BackchannelLogoutSignal signal, NodeShutdown shutdown,
    IConfiguration configuration, TimeProvider clock, ILogger<BackchannelLogoutSender> logger) : BackgroundService
{
    public const string HttpClientName = "backchannel-logout";

    /// <summary>How long a claimed row is left alone by other nodes: longer than one POST can take.</summary>
    private static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(1);
    private readonly TimeSpan _pollInterval = configuration.GetValue("Oidc:BackchannelLogout:PollInterval", TimeSpan.FromSeconds(10));
    private readonly TimeSpan _firstRetryDelay = configuration.GetValue("Oidc:BackchannelLogout:FirstRetryDelay", TimeSpan.FromSeconds(5));
    private readonly int _maxAttempts = configuration.GetValue("Oidc:BackchannelLogout:MaxAttempts", 8);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await DeliverDueAsync(stoppingToken);
                await signal.WaitAsync(_pollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The loop must outlive any single failure (a database blip); it is logged and retried.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                logger.LogError(ex, "Back-channel logout delivery round failed");
                await Task.Delay(_pollInterval, stoppingToken);
            }
        }
    }

    public async Task DeliverDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var tokens = scope.ServiceProvider.GetRequiredService<BackchannelLogoutToken>();
        var now = clock.GetUtcNow();
        var due = await db.BackchannelLogoutDeliveries
            .Where(d => d.DeliveredAt == null && d.AbandonedAt == null && d.NextAttemptAt <= now)
            .OrderBy(d => d.NextAttemptAt)
            .Take(50)
            .ToListAsync(cancellationToken);
        foreach (var delivery in due.TakeWhile(_ => !cancellationToken.IsCancellationRequested))
        {
            // Several nodes may run this loop: a row is sent by whichever moves its due time first.
            var dueAt = delivery.NextAttemptAt;
            var claimed = await db.BackchannelLogoutDeliveries
                .Where(d => d.Id == delivery.Id && d.NextAttemptAt == dueAt && d.DeliveredAt == null)
                .ExecuteUpdateAsync(row => row.SetProperty(d => d.NextAttemptAt, now + ClaimLease), cancellationToken);
            if (claimed == 0)
            {
                continue;
            }

            // A claimed POST is not cut off by the stop: the RP may already have acted on it, and its outcome must be recorded.
            await AttemptAsync(delivery, tokens, shutdown.InFlightDeadline);
            await db.SaveChangesAsync(shutdown.InFlightDeadline);
        }
    }

    private async Task AttemptAsync(BackchannelLogoutDelivery delivery, BackchannelLogoutToken tokens, CancellationToken cancellationToken)
    {
        delivery.Attempts++;
        string? failure;
        try
        {
            using var content = new FormUrlEncodedContent([KeyValuePair.Create("logout_token", tokens.Create(delivery))]);
            using var response = await httpClients.CreateClient(HttpClientName).PostAsync(new Uri(delivery.LogoutUri), content, cancellationToken);
            // §2.8: the RP answers 200 OK (or 204) when it has logged the session out.
            failure = response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException ex)
        {
            failure = ex.Message;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = "timed out";
        }

        var now = clock.GetUtcNow();
        if (failure is null)
        {
            delivery.DeliveredAt = now;
            delivery.LastError = null;
            return;
        }

        delivery.LastError = failure.Length > 1024 ? failure[..1024] : failure;
        if (delivery.Attempts >= _maxAttempts)
        {
            delivery.AbandonedAt = now;
            logger.LogWarning("Back-channel logout to {ClientId} abandoned after {Attempts} attempts: {Error}", delivery.ClientId, delivery.Attempts, failure);
            return;
        }

        delivery.NextAttemptAt = now + (_firstRetryDelay * Math.Pow(2, delivery.Attempts - 1));
        logger.LogInformation("Back-channel logout to {ClientId} failed ({Error}); attempt {Attempts} of {Max}", delivery.ClientId, failure, delivery.Attempts, _maxAttempts);
    }
}

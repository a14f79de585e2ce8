using IdentityHub.Server.Hosting;
using IdentityHub.Server.Oidc.Keys;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.Oidc.Pruning;

/// <summary>How often expired tokens and authorizations are removed, and how old they must be first.</summary>
public sealed record PruningSettings(TimeSpan Interval, TimeSpan Age)
{
    public static PruningSettings Read(IConfiguration configuration)
    {
        var settings = new PruningSettings(
            KeySettings.ReadDuration(configuration, "Oidc:Pruning:Interval", TimeSpan.FromHours(1)),
            KeySettings.ReadDuration(configuration, "Oidc:Pruning:Age", TimeSpan.FromDays(14)));
        if (settings.Interval <= TimeSpan.Zero)
        {
            throw new StartupException("Oidc:Pruning:Interval must be a positive duration.");
        }

        // Recent rows are kept for a while: they explain to an administrator why a token was refused.
        if (settings.Age < TimeSpan.FromDays(1))
        {
            throw new StartupException("Oidc:Pruning:Age must be at least 1.00:00:00 (one day).");
        }

        return settings;
    }
}

/// <summary>The counts one pruning pass removed.</summary>
public sealed record PruningOutcome(long Tokens, long Authorizations);

/// <summary>
/// Removes tokens and authorizations that can no longer be used (expired, redeemed, revoked, or
/// ad-hoc authorizations without tokens) and are older than <see cref="PruningSettings.Age"/>,
/// through OpenIddict's own managers, every <see cref="PruningSettings.Interval"/>.
/// </summary>
public sealed class TokenPruningService(
    IServiceScopeFactory scopes, PruningSettings settings, TimeProvider clock, ILogger<TokenPruningService> logger) : BackgroundService
{
    /// <summary>One pass; callable directly (tests, an admin action).</summary>
    public async Task<PruningOutcome> RunOnceAsync(CancellationToken cancellationToken)
    {
        var threshold = clock.GetUtcNow() - settings.Age;
        await using var scope = scopes.CreateAsyncScope();
        var tokens = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(threshold, cancellationToken);
        var authorizations = await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().PruneAsync(threshold, cancellationToken);
        logger.LogInformation(
            "Pruned {Tokens} token(s) and {Authorizations} authorization(s) unusable since before {Threshold:O}", tokens, authorizations, threshold);
        return new PruningOutcome(tokens, authorizations);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop pruning for good: the next tick tries again.
                logger.LogError(ex, "Pruning tokens and authorizations failed; retrying in {Interval}", settings.Interval);
            }
        }
    }
}

public static class TokenPruningSetup
{
    public static void AddIdentityHubTokenPruning(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(PruningSettings.Read(builder.Configuration));
        builder.Services.AddSingleton<TokenPruningService>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<TokenPruningService>());
    }
}

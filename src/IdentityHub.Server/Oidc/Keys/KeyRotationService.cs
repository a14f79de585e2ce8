using IdentityHub.Core.Access;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>
/// Runs the key schedule on every node every <see cref="KeySettings.CheckInterval"/>: performs the
/// rotations that are due (whichever node comes first writes them) and reloads the key ring, so a
/// rotation made by another node or by an administrator reaches OpenIddict here without a restart.
/// </summary>
public sealed class KeyRotationService(
    IServiceScopeFactory scopes,
    KeyRing ring,
    KeySettings settings,
    IOptionsMonitor<OpenIddictServerOptions> serverOptions,
    IOptionsMonitor<OpenIddictValidationOptions> validationOptions,
    ILogger<KeyRotationService> logger) : BackgroundService
{
    // Until the server's token lifetimes can be read (they need the keys), nothing is removed.
    private static readonly TimeSpan KeepEverything = TimeSpan.FromDays(3650);

    /// <summary>
    /// How long a retired key stays published: <c>Oidc:Keys:RetainAfterRetirement</c>, else the longest
    /// token lifetime the server is configured with, so no token outlives the key that signed it.
    /// </summary>
    public TimeSpan RetainAfterRetirement => settings.RetainAfterRetirement ?? LongestTokenLifetime(serverOptions.CurrentValue);

    /// <summary>At start-up, before requests: makes sure keys exist and loads them, then applies the schedule.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
            await store.EnsureKeysAsync(KeepEverything, cancellationToken);
            await ring.RefreshAsync(store, KeepEverything, cancellationToken);
        }

        await RunOnceAsync(cancellationToken);
    }

    /// <summary>One pass of the schedule for every key use, then a reload; returns true when the keys in use changed.</summary>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var retain = RetainAfterRetirement;
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
        foreach (var use in SigningKeyStore.Uses)
        {
            await store.ApplyScheduleAsync(use, retain, cancellationToken);
        }

        var changed = await ring.RefreshAsync(store, retain, cancellationToken);
        if (!ring.IsInUse(serverOptions.CurrentValue, validationOptions.CurrentValue))
        {
            logger.LogWarning("OpenIddict was using keys older than the key ring (built during a refresh); rebuilding its options");
            ring.Invalidate();
            changed = true;
        }

        return changed;
    }

    /// <summary>Makes the next key of <paramref name="use"/> active now and retires the active one, then reloads.</summary>
    public async Task<RotationOutcome> RotateNowAsync(string use, CancellationToken cancellationToken)
    {
        var retain = RetainAfterRetirement;
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
        var (activated, retired) = await store.RotateNowAsync(use, retain, cancellationToken);
        await ring.RefreshAsync(store, retain, cancellationToken);
        return new RotationOutcome(activated, retired, await store.ListAsync(cancellationToken), retain);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.CheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await RunOnceAsync(stoppingToken))
                {
                    logger.LogInformation("Signing keys changed; OpenIddict now uses the new key ring");
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop the schedule: the next tick tries again.
                logger.LogError(ex, "The key schedule pass failed; retrying in {Interval}", settings.CheckInterval);
            }
        }
    }

    // Per-client lifetimes count too: a refresh token may live up to ClientRegistration.MaxRefreshTokenLifetime.
    private static TimeSpan LongestTokenLifetime(OpenIddictServerOptions options) =>
        new[]
        {
            options.AccessTokenLifetime, options.AuthorizationCodeLifetime, options.IdentityTokenLifetime,
            options.RefreshTokenLifetime, options.DeviceCodeLifetime, options.UserCodeLifetime,
            ClientRegistration.MaxRefreshTokenLifetime,
        }.Max() ?? ClientRegistration.MaxRefreshTokenLifetime;
}

/// <summary>The result of an immediate rotation: the new active key, the one it replaced, and all keys after it.</summary>
public sealed record RotationOutcome(
    Data.Keys.SigningKey Activated, Data.Keys.SigningKey? Retired, IReadOnlyList<Data.Keys.SigningKey> Keys, TimeSpan RetainAfterRetirement);

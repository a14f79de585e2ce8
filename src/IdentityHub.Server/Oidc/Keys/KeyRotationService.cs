using System.Diagnostics;
using IdentityHub.Core.Access;
using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;
using IdentityHub.Server.Hosting.Cluster;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>
/// Keeps this node's key ring current: reloads it when any node says the keys changed (<see cref="ClusterTopic.Keys"/>),
/// and every <see cref="KeySettings.CheckInterval"/> runs the key schedule (whichever node comes first writes what is
/// due) as the safety net for a missed notice and for scheduled activations. After every change of the ring the node's
/// heartbeat says which keys it publishes, which is what a rotation by hand waits for.
/// </summary>
public sealed class KeyRotationService(
    IServiceScopeFactory scopes,
    KeyRing ring,
    KeySettings settings,
    ClusterChanges changes,
    NodeRegistry registry,
    TimeProvider clock,
    IOptionsMonitor<OpenIddictServerOptions> serverOptions,
    IOptionsMonitor<OpenIddictValidationOptions> validationOptions,
    ILogger<KeyRotationService> logger) : BackgroundService
{
    // Until the server's token lifetimes can be read (they need the keys), nothing is removed.
    private static readonly TimeSpan KeepEverything = TimeSpan.FromDays(3650);

    /// <summary>A token naming an unknown key reloads the ring at most this often, so made-up kids cannot hammer the database.</summary>
    public static readonly TimeSpan UnknownKeyReloadInterval = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan ConfirmationPoll = TimeSpan.FromMilliseconds(100);

    private readonly SemaphoreSlim _reloadRequested = new(0, 1);
    private readonly SemaphoreSlim _unknownKeyReload = new(1, 1);
    private long _lastUnknownKeyReload = long.MinValue;
    private long _unknownKeyReloads;

    /// <summary>How many times a token naming an unknown key made this node reload its ring (a made-up kid costs at most one per interval).</summary>
    public long UnknownKeyReloads => Interlocked.Read(ref _unknownKeyReloads);

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
        var changed = false;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
            foreach (var use in SigningKeyStore.Uses)
            {
                // What the pass wrote changes the ring even when the reload its own change notice woke got there first.
                changed |= !(await store.ApplyScheduleAsync(use, retain, cancellationToken)).IsEmpty;
            }

            changed |= await ring.RefreshAsync(store, retain, cancellationToken);
        }

        if (!ring.IsInUse(serverOptions.CurrentValue, validationOptions.CurrentValue))
        {
            logger.LogWarning("OpenIddict was using keys older than the key ring (built during a refresh); rebuilding its options");
            ring.Invalidate();
            changed = true;
        }

        if (changed)
        {
            registry.RequestHeartbeat();
        }

        return changed;
    }

    /// <summary>Reloads the ring from the database (no schedule pass) and, when it changed, says so in this node's heartbeat.</summary>
    public async Task<bool> ReloadAsync(CancellationToken cancellationToken)
    {
        bool changed;
        await using (var scope = scopes.CreateAsyncScope())
        {
            changed = await ring.RefreshAsync(scope.ServiceProvider.GetRequiredService<SigningKeyStore>(), RetainAfterRetirement, cancellationToken);
        }

        if (changed)
        {
            await registry.HeartbeatAsync(cancellationToken);
        }

        return changed;
    }

    /// <summary>
    /// A token of this issuer names a key this node does not have: another node may have created it a moment ago. Reloads
    /// the ring (at most once per <see cref="UnknownKeyReloadInterval"/>; callers arriving meanwhile share that reload) and
    /// answers whether the key is known now.
    /// </summary>
    public async Task<bool> TryLearnKeyAsync(string keyId, CancellationToken cancellationToken)
    {
        if (ring.Knows(keyId))
        {
            return true;
        }

        await _unknownKeyReload.WaitAsync(cancellationToken);
        try
        {
            if (ring.Knows(keyId))
            {
                return true;
            }

            var last = Interlocked.Read(ref _lastUnknownKeyReload);
            if (last != long.MinValue && Stopwatch.GetElapsedTime(last) < UnknownKeyReloadInterval)
            {
                return false;
            }

            Interlocked.Exchange(ref _lastUnknownKeyReload, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref _unknownKeyReloads);
            if (await ReloadAsync(cancellationToken))
            {
                logger.LogInformation("A token named key {KeyId}, unknown here; the key ring was reloaded", keyId);
            }

            return ring.Knows(keyId);
        }
        finally
        {
            _unknownKeyReload.Release();
        }
    }

    /// <summary>
    /// Rotation by hand, never signing with a key another live node does not publish: a next key every live node already
    /// publishes is activated at once; otherwise the next key is created (published, not signing), the other nodes are
    /// told, and once every live node's heartbeat lists it (within <see cref="KeySettings.RotationWait"/>) it is activated
    /// and the old one retired. If a live node does not confirm in time the key stays published and signs at a safe
    /// time later, when every node's periodic pass has it; the outcome says when and which nodes lagged.
    /// </summary>
    public async Task<RotationOutcome> RotateNowAsync(string use, CancellationToken cancellationToken)
    {
        var retain = RetainAfterRetirement;
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<SigningKeyStore>();
        var next = await store.PrepareNextAsync(use, clock.GetUtcNow() + settings.CheckInterval * 2, retain, cancellationToken);
        await ring.RefreshAsync(store, retain, cancellationToken);
        await registry.HeartbeatAsync(cancellationToken);

        var lagging = await WaitUntilEveryNodePublishesAsync(next.Id, cancellationToken);
        if (lagging.Count > 0)
        {
            var names = lagging.Select(n => n.Name).ToList();
            var deferred = await store.DeferActivationAsync(use, next.Id, clock.GetUtcNow() + settings.CheckInterval * 2, names, cancellationToken);
            await ring.RefreshAsync(store, retain, cancellationToken);
            logger.LogWarning(
                "Rotation of the {Use} key: node(s) {Nodes} did not publish key {KeyId} within {Wait}; it signs from {ActivatesAt:O}",
                use, string.Join(", ", names), next.Id, settings.RotationWait, deferred.ActivatesAt);
            return new RotationOutcome(null, null, await store.ListAsync(cancellationToken), retain, new PendingRotation(deferred, deferred.ActivatesAt, names));
        }

        var (activated, retired) = await store.ActivateNowAsync(use, next.Id, retain, cancellationToken);
        await ring.RefreshAsync(store, retain, cancellationToken);
        registry.RequestHeartbeat();
        return new RotationOutcome(activated, retired, await store.ListAsync(cancellationToken), retain, null);
    }

    /// <summary>Polls the node registry until every live node publishes <paramref name="keyId"/>; returns the nodes that still do not.</summary>
    private async Task<IReadOnlyList<LiveNode>> WaitUntilEveryNodePublishesAsync(string keyId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var lagging = NodesLacking(await registry.LiveNodesAsync(cancellationToken), keyId);
            if (lagging.Count == 0 || Stopwatch.GetElapsedTime(started) >= settings.RotationWait)
            {
                return lagging;
            }

            await Task.Delay(ConfirmationPoll, cancellationToken);
        }
    }

    /// <summary>The live nodes whose last heartbeat does not list the key.</summary>
    public static IReadOnlyList<LiveNode> NodesLacking(IReadOnlyList<LiveNode> live, string keyId) =>
        [.. live.Where(n => !n.PublishedKeyIds.Contains(keyId))];

    public override void Dispose()
    {
        _reloadRequested.Dispose();
        _unknownKeyReload.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The subscriber only wakes the loop: several notices in a row make one reload, and none runs on the notifier's thread.
        using var subscription = changes.Subscribe(ClusterTopic.Keys, _ => RequestReload());
        var nextPass = Stopwatch.GetTimestamp();
        while (!stoppingToken.IsCancellationRequested)
        {
            var untilPass = settings.CheckInterval - Stopwatch.GetElapsedTime(nextPass);
            var reload = untilPass > TimeSpan.Zero && await _reloadRequested.WaitAsync(untilPass, stoppingToken);
            try
            {
                if (reload)
                {
                    await ReloadAsync(stoppingToken);
                }
                else
                {
                    nextPass = Stopwatch.GetTimestamp();
                    if (await RunOnceAsync(stoppingToken))
                    {
                        logger.LogInformation("Signing keys changed; OpenIddict now uses the new key ring");
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database outage must not stop the schedule: the next notice or tick tries again.
                logger.LogError(ex, "Reloading the keys failed; retrying at the next change notice or in {Interval}", settings.CheckInterval);
            }
        }
    }

    private void RequestReload()
    {
        try
        {
            _reloadRequested.Release();
        }
        catch (SemaphoreFullException)
        {
            // A reload is already due; it will read this change too.
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

/// <summary>
/// The result of a rotation by hand: the new active key and the one it replaced, or (when a live node did not publish the
/// new key in time) the pending rotation; and all keys after it.
/// </summary>
public sealed record RotationOutcome(
    Data.Keys.SigningKey? Activated,
    Data.Keys.SigningKey? Retired,
    IReadOnlyList<Data.Keys.SigningKey> Keys,
    TimeSpan RetainAfterRetirement,
    PendingRotation? Pending);

/// <summary>A published key that signs from <see cref="ActivatesAt"/>, because the named live nodes did not confirm it in time.</summary>
public sealed record PendingRotation(Data.Keys.SigningKey Key, DateTimeOffset ActivatesAt, IReadOnlyList<string> LaggingNodes);

using System.Collections.Concurrent;
using IdentityHub.Data.Keys;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>A key in service: active, next or retired, with its usable key material.</summary>
public sealed record RingKey(string Id, string Use, string Algorithm, KeyState State, SecurityKey Key);

/// <summary>The keys in service at one instant, each use ordered active first, then next, then retired.</summary>
public sealed record KeyRingSnapshot(IReadOnlyList<RingKey> Signing, IReadOnlyList<RingKey> Encryption)
{
    public string Fingerprint { get; } = string.Join(';', Signing.Concat(Encryption).Select(k => $"{k.Id}:{k.State}"));
}

/// <summary>
/// The process-wide view of the keys OpenIddict uses. OpenIddict reads keys only when its options are
/// built, so when the stored keys (or their states) change, the ring drops the cached server and
/// validation options and the next request builds them again from the new snapshot.
/// </summary>
public sealed class KeyRing(
    IOptionsMonitorCache<OpenIddictServerOptions> serverOptions,
    IOptionsMonitorCache<OpenIddictValidationOptions> validationOptions,
    TimeProvider clock,
    ILogger<KeyRing> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, SecurityKey> _material = new(StringComparer.Ordinal);
    // One refresh at a time, so a slow pass that read the keys earlier cannot overwrite a newer snapshot.
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile KeyRingSnapshot? _current;

    public KeyRingSnapshot Current => _current
        ?? throw new InvalidOperationException("The signing keys are not loaded yet; start-up loads them after the database is ready.");

    /// <summary>Whether a key of this id is in service here (signing or encryption, any state).</summary>
    public bool Knows(string keyId)
    {
        var snapshot = Current;
        return snapshot.Signing.Any(k => k.Id == keyId) || snapshot.Encryption.Any(k => k.Id == keyId);
    }

    /// <summary>Reloads the keys from the database; returns true when OpenIddict had to pick up a change.</summary>
    public async Task<bool> RefreshAsync(SigningKeyStore store, TimeSpan retainAfterRetirement, CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var rows = await store.ListAsync(cancellationToken);
            var now = clock.GetUtcNow();
            var snapshot = new KeyRingSnapshot(
                InService(rows, KeyUses.Signing, now, retainAfterRetirement, store),
                InService(rows, KeyUses.Encryption, now, retainAfterRetirement, store));

            var previous = _current;
            if (previous is not null && previous.Fingerprint == snapshot.Fingerprint)
            {
                return false;
            }

            _current = snapshot;
            Invalidate();
            logger.LogInformation("Key ring loaded: {Keys}", snapshot.Fingerprint);
            return previous is not null;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Whether the options OpenIddict currently uses were built from the current snapshot. A request that
    /// started building them just before a refresh can cache the previous keys; the schedule checks this.
    /// </summary>
    public bool IsInUse(OpenIddictServerOptions server, OpenIddictValidationOptions validation)
    {
        var snapshot = Current;
        var kids = snapshot.Signing.Select(k => k.Id).Order(StringComparer.Ordinal).ToList();
        return server.SigningCredentials.FirstOrDefault()?.Key.KeyId == snapshot.Signing.FirstOrDefault(k => k.State == KeyState.Active)?.Id
            && server.SigningCredentials.Select(c => c.Key.KeyId).Order(StringComparer.Ordinal).SequenceEqual(kids)
            && server.EncryptionCredentials.FirstOrDefault()?.Key.KeyId == snapshot.Encryption.FirstOrDefault(k => k.State == KeyState.Active)?.Id
            && validation.Configuration?.SigningKeys.Select(k => k.KeyId).Order(StringComparer.Ordinal).SequenceEqual(kids) == true;
    }

    /// <summary>Drops OpenIddict's cached options; the next request builds them from the current snapshot.</summary>
    public void Invalidate()
    {
        // Server first: the validation options copy their keys from the server options when rebuilt.
        serverOptions.TryRemove(Options.DefaultName);
        validationOptions.TryRemove(Options.DefaultName);
    }

    public void Dispose() => _refreshing.Dispose();

    private List<RingKey> InService(
        IReadOnlyList<SigningKey> rows, string use, DateTimeOffset now, TimeSpan retainAfterRetirement, SigningKeyStore store)
    {
        var ofUse = rows.Where(k => k.Use == use).ToList();
        var states = KeyLifecycle.StatesAt(ofUse, now, retainAfterRetirement);
        return ofUse
            .Where(k => states[k.Id] != KeyState.Expired)
            .OrderBy(k => states[k.Id] switch { KeyState.Active => 0, KeyState.Next => 1, _ => 2 })
            .ThenByDescending(k => k.ActivatesAt)
            .Select(k => new RingKey(k.Id, k.Use, k.Algorithm, states[k.Id], _material.GetOrAdd(k.Id, _ => store.Unprotect(k))))
            .ToList();
    }
}

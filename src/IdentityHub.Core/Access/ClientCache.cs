using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;
using Microsoft.Extensions.Caching.Memory;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Access;

/// <summary>
/// Process-wide cache of OIDC clients by client_id. OpenIddict's own entity cache is scoped (it wraps the
/// scoped EF store), so it only saves lookups within one request; the token endpoint needs the client on
/// every request. An entry is dropped when any node saves the client (a <see cref="ClusterTopic.Client"/> change, within
/// about a second on the other nodes), and everything is dropped when this node may have missed changes. The expiry
/// (<c>Oidc:ClientCacheExpiry</c>, 30 s by default) is only a safety net for a change no node announced.
/// </summary>
public sealed class ClientCache : IDisposable
{
    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromSeconds(30);
    private const int MaxEntries = 10_000;

    private readonly TimeSpan _expiry;
    private readonly IDisposable _subscription;
    private long _generation;
    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    public ClientCache(ClusterChanges changes, ClientCacheExpiry? expiry = null)
    {
        ArgumentNullException.ThrowIfNull(changes);
        _expiry = expiry?.Value ?? DefaultExpiry;
        _subscription = changes.Subscribe(ClusterTopic.Client, clientId =>
        {
            if (clientId is null)
            {
                Clear();
            }
            else
            {
                Invalidate(clientId);
            }
        });
    }

    /// <summary>A private copy of the cached client, so a caller that changes or attaches it cannot alter the cache.</summary>
    public OpenIddictEntityFrameworkCoreApplication? Find(string clientId) =>
        _cache.TryGetValue(clientId, out OpenIddictEntityFrameworkCoreApplication? cached) && cached is not null ? Copy(cached) : null;

    /// <summary>Moves on every invalidation: read it before loading a client, and hand it to <see cref="Add"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>
    /// Caches a client loaded from the database, unless an invalidation came in since <paramref name="loadedAt"/> (the
    /// <see cref="Generation"/> read before loading): what was loaded may already be the old state.
    /// </summary>
    public void Add(OpenIddictEntityFrameworkCoreApplication application, long loadedAt)
    {
        ArgumentNullException.ThrowIfNull(application);
        if (application.ClientId is { Length: > 0 } clientId)
        {
            lock (_cache)
            {
                if (Generation == loadedAt)
                {
                    _cache.Set(clientId, Copy(application), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _expiry });
                }
            }
        }
    }

    public void Invalidate(string? clientId)
    {
        if (clientId is not null)
        {
            lock (_cache)
            {
                Interlocked.Increment(ref _generation);
                _cache.Remove(clientId);
            }
        }
    }

    /// <summary>Drops every client: the next lookup of each reads the database.</summary>
    public void Clear()
    {
        lock (_cache)
        {
            Interlocked.Increment(ref _generation);
            _cache.Clear();
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        _cache.Dispose();
    }

    private static OpenIddictEntityFrameworkCoreApplication Copy(OpenIddictEntityFrameworkCoreApplication source) => new()
    {
        Id = source.Id,
        ApplicationType = source.ApplicationType,
        ClientId = source.ClientId,
        ClientSecret = source.ClientSecret,
        ClientType = source.ClientType,
        ConcurrencyToken = source.ConcurrencyToken,
        ConsentType = source.ConsentType,
        DisplayName = source.DisplayName,
        DisplayNames = source.DisplayNames,
        JsonWebKeySet = source.JsonWebKeySet,
        Permissions = source.Permissions,
        PostLogoutRedirectUris = source.PostLogoutRedirectUris,
        Properties = source.Properties,
        RedirectUris = source.RedirectUris,
        Requirements = source.Requirements,
        Settings = source.Settings,
    };
}

/// <summary>How long a cached client may be served when no change is announced (<c>Oidc:ClientCacheExpiry</c>).</summary>
public sealed record ClientCacheExpiry(TimeSpan Value);

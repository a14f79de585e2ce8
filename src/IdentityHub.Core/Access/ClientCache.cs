using Microsoft.Extensions.Caching.Memory;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Access;

/// <summary>
/// Process-wide cache of OIDC clients by client_id. OpenIddict's own entity cache is scoped (it wraps the
/// scoped EF store), so it only saves lookups within one request; the token endpoint needs the client on
/// every request. Entries are invalidated when this node updates or deletes the client; the short
/// expiry bounds how long another node may serve a changed client.
/// </summary>
public sealed class ClientCache : IDisposable
{
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(30);
    private const int MaxEntries = 10_000;

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries });

    /// <summary>A private copy of the cached client, so a caller that changes or attaches it cannot alter the cache.</summary>
    public OpenIddictEntityFrameworkCoreApplication? Find(string clientId) =>
        _cache.TryGetValue(clientId, out OpenIddictEntityFrameworkCoreApplication? cached) && cached is not null ? Copy(cached) : null;

    public void Add(OpenIddictEntityFrameworkCoreApplication application)
    {
        if (application.ClientId is { Length: > 0 } clientId)
        {
            _cache.Set(clientId, Copy(application), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = Expiry });
        }
    }

    public void Invalidate(string? clientId)
    {
        if (clientId is not null)
        {
            _cache.Remove(clientId);
        }
    }

    public void Dispose() => _cache.Dispose();

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

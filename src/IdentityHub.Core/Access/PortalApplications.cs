using System.Text.Json;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHub.Core.Access;

/// <summary>How the portal starts an application.</summary>
public enum LaunchKind
{
    /// <summary>The application's own launch URL setting.</summary>
    LaunchUrl,

    /// <summary>The OIDC client's <c>initiate_login_uri</c> (OpenID Connect Registration 1.0 §2).</summary>
    InitiateLogin,

    /// <summary>IdentityHub's IdP-initiated SAML login for the application's service provider (SAML Profiles §4.1.5).</summary>
    SamlIdpInitiated,
}

/// <summary>
/// One tile of the portal. <see cref="Address"/> is absolute for <see cref="LaunchKind.LaunchUrl"/> and
/// <see cref="LaunchKind.InitiateLogin"/>; for <see cref="LaunchKind.SamlIdpInitiated"/> the host builds its own endpoint's address.
/// </summary>
public sealed record PortalApplication(Guid Id, string Name, string? Description, string? IconUrl, LaunchKind Launch, string? Address);

/// <summary>
/// The applications a person sees in the portal: those they hold rights in now (<see cref="EffectiveEntitlements"/>)
/// that can be started from outside — a launch URL, else the OIDC client's initiate_login_uri (an enabled client), else
/// IdP-initiated SAML where the service provider allows it. The others cannot be opened from a link, so they are left out.
/// </summary>
public sealed class PortalApplications(IdentityHubDbContext db, EffectiveEntitlements entitlements, IOpenIddictApplicationManager clients)
{
    public async Task<IReadOnlyList<PortalApplication>> ForUserAsync(string userId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        var held = await entitlements.ApplicationsHeldAsync(userId, cancellationToken);
        if (held.Count == 0)
        {
            return [];
        }

        var ids = held.ToList();
        var applications = await db.Applications.AsNoTracking().Where(a => ids.Contains(a.Id))
            .Select(a => new { a.Id, a.Name, a.Description, a.IconUrl, a.LaunchUrl, a.OidcClientId })
            .ToListAsync(cancellationToken);
        var providers = await db.SamlServiceProviders.AsNoTracking().Where(s => ids.Contains(s.ApplicationId) && s.AllowIdpInitiated)
            .ToListAsync(cancellationToken);
        var idpInitiated = providers.Where(s => s.AssertionConsumerServices.Count > 0).Select(s => s.ApplicationId).ToHashSet();

        var tiles = new List<PortalApplication>();
        foreach (var application in applications.OrderBy(a => a.Name, StringComparer.CurrentCulture))
        {
            (LaunchKind Kind, string? Address)? launch = application.LaunchUrl is { } url ? (LaunchKind.LaunchUrl, url)
                : await InitiateLoginUriAsync(application.OidcClientId, cancellationToken) is { } initiate ? (LaunchKind.InitiateLogin, initiate)
                : idpInitiated.Contains(application.Id) ? (LaunchKind.SamlIdpInitiated, null)
                : null;
            if (launch is { } found)
            {
                tiles.Add(new PortalApplication(application.Id, application.Name, application.Description, application.IconUrl, found.Kind, found.Address));
            }
        }

        return tiles;
    }

    private async Task<string?> InitiateLoginUriAsync(string? clientId, CancellationToken cancellationToken)
    {
        if (clientId is null || await clients.FindByClientIdAsync(clientId, cancellationToken) is not { } client)
        {
            return null;
        }

        var properties = await clients.GetPropertiesAsync(client, cancellationToken);
        return !ClientProperties.IsDisabled(properties)
            && properties.TryGetValue(ClientProperties.InitiateLoginUri, out var uri) && uri.ValueKind == JsonValueKind.String
            ? uri.GetString()
            : null;
    }
}

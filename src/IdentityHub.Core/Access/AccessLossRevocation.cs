using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Access;

/// <summary>
/// Losing a role revokes the user's refresh tokens and authorizations of the OIDC clients of the applications the
/// role gave rights in (see <see cref="RoleApplications"/>; for a global role, those of its permissions), where the
/// application asks for it, so the next refresh cannot carry the old rights. Other applications' tokens stay.
/// </summary>
public sealed class AccessLossRevocation(IdentityHubDbContext db)
{
    /// <summary>Joins the caller's transaction; returns how many tokens were revoked.</summary>
    public async Task<int> RevokeAsync(string userId, IReadOnlyCollection<Guid> applicationIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(applicationIds);
        if (applicationIds.Count == 0)
        {
            return 0;
        }

        var clientIds = await db.Applications
            .Where(a => applicationIds.Contains(a.Id) && a.RevokeTokensOnAccessLoss && a.OidcClientId != null)
            .Select(a => a.OidcClientId!).ToListAsync(cancellationToken);
        if (clientIds.Count == 0)
        {
            return 0;
        }

        var clients = await db.Set<OpenIddictEntityFrameworkCoreApplication>().Where(a => a.ClientId != null && clientIds.Contains(a.ClientId))
            .Select(a => a.Id).ToListAsync(cancellationToken);
        if (clients.Count == 0)
        {
            return 0;
        }

        // The authorizations go too, so nothing issued under the old grant can be redeemed or refreshed.
        var revoked = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == userId && clients.Contains(t.Application!.Id) && t.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == userId && clients.Contains(a.Application!.Id) && a.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        return revoked;
    }
}

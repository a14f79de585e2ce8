using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Access;

/// <summary>
/// Losing a role in an application revokes the user's refresh tokens and authorizations of that
/// application's client (when the application asks for it), so the next refresh cannot carry the old rights.
/// </summary>
public sealed class AccessLossRevocation(IdentityHubDbContext db)
{
    /// <summary>Joins the caller's transaction; returns how many tokens were revoked.</summary>
    public async Task<int> RevokeAsync(string userId, Guid? applicationId, CancellationToken cancellationToken)
    {
        if (applicationId is not { } id)
        {
            return 0;
        }

        var clientId = await db.Applications.Where(a => a.Id == id && a.RevokeTokensOnAccessLoss).Select(a => a.OidcClientId).SingleOrDefaultAsync(cancellationToken);
        if (clientId is null)
        {
            return 0;
        }

        var client = await db.Set<OpenIddictEntityFrameworkCoreApplication>().Where(a => a.ClientId == clientId).Select(a => a.Id).SingleOrDefaultAsync(cancellationToken);
        if (client is null)
        {
            return 0;
        }

        var revoked = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == userId && t.Application!.Id == client && t.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == userId && a.Application!.Id == client && a.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        return revoked;
    }
}

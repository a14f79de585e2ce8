using IdentityHub.Core.Access;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHub.Core.Queries;

/// <summary>Reads of an application's OIDC client as its registration (never the secret or its digest).</summary>
public sealed class OidcClientQueries(IdentityHubDbContext db, IOpenIddictApplicationManager clients)
{
    /// <summary>The application's client registration; null when the application or its client does not exist.</summary>
    public async Task<ClientRegistrationResponse?> GetAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        var clientId = await db.Applications.AsNoTracking().Where(a => a.Id == applicationId).Select(a => a.OidcClientId).SingleOrDefaultAsync(cancellationToken);
        return clientId is not null && await clients.FindByClientIdAsync(clientId, cancellationToken) is { } client
            ? await ClientRegistration.ReadAsync(clients, client, cancellationToken)
            : null;
    }
}

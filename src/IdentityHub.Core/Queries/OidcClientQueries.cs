using IdentityHub.Core.Access;
using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHub.Core.Queries;

/// <summary>
/// An application's OIDC client as the admin API and the console show it, with the revision a change sends back
/// (its application's: every client write moves it, see <see cref="OidcClients"/>).
/// </summary>
public sealed record OidcClientView(Guid ApplicationId, ClientRegistrationResponse Registration, DateTimeOffset UpdatedAt)
{
    public long Revision => Core.Revision.Of(UpdatedAt);
}

/// <summary>Reads of an application's OIDC client as its registration (never the secret or its digest).</summary>
public sealed class OidcClientQueries(IdentityHubDbContext db, IOpenIddictApplicationManager clients)
{
    /// <summary>The application's client registration; null when the application or its client does not exist.</summary>
    public async Task<OidcClientView?> GetAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().Where(a => a.Id == applicationId)
            .Select(a => new { a.OidcClientId, a.UpdatedAt }).SingleOrDefaultAsync(cancellationToken);
        return application?.OidcClientId is { } clientId && await clients.FindByClientIdAsync(clientId, cancellationToken) is { } client
            ? new OidcClientView(applicationId, await ClientRegistration.ReadAsync(clients, client, cancellationToken), application.UpdatedAt)
            : null;
    }
}

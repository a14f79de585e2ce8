using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>An application's SAML service provider as the admin API and the console show it, with the revision an edit sends back.</summary>
public sealed record SamlServiceProviderView(Guid ApplicationId, SamlServiceProviderDto Registration, DateTimeOffset UpdatedAt)
{
    public long Revision => Core.Revision.Of(UpdatedAt);

    public static SamlServiceProviderView Of(SamlServiceProvider sp)
    {
        ArgumentNullException.ThrowIfNull(sp);
        return new(sp.ApplicationId, SamlServiceProviderRegistration.Read(sp), sp.UpdatedAt);
    }
}

/// <summary>Reads of SAML service providers shared by the admin API and the console.</summary>
public sealed class SamlServiceProviderQueries(IdentityHubDbContext db)
{
    /// <summary>The SP of <paramref name="applicationId"/>, or null when it has none (or there is no such application).</summary>
    public async Task<SamlServiceProviderView?> OfApplicationAsync(Guid applicationId, CancellationToken cancellationToken) =>
        await db.SamlServiceProviders.AsNoTracking().SingleOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken) is { } sp
            ? SamlServiceProviderView.Of(sp)
            : null;
}

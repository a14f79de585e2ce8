using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Saml.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>The answer to a metadata import: the registration, and the endpoints left out because their binding is not supported.</summary>
public sealed record SamlMetadataImportResponse(SamlServiceProviderDto ServiceProvider, IReadOnlyList<SkippedEndpoint> Skipped);

/// <summary>/applications/{id}/saml: the application's SAML service provider, by fields or from its metadata; the rules are <see cref="SamlServiceProviders"/>'.</summary>
public static class ApplicationSamlApi
{
    public static void MapApplicationSamlApi(this IEndpointRouteBuilder api)
    {
        var saml = api.MapGroup("/applications/{id:guid}/saml");
        saml.MapGet("/", GetAsync).WithSummary("Get the application's SAML service provider");
        saml.MapPut("/", PutAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Register or replace the application's SAML service provider");
        saml.MapDelete("/", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Remove the application's SAML service provider");
        saml.MapPost("/metadata", ImportMetadataAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Register the SAML service provider from its metadata (file or URL)");
    }

    private static async Task<Results<Ok<SamlServiceProviderDto>, NotFound>> GetAsync(
        Guid id, SamlServiceProviderQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        if (await queries.OfApplicationAsync(id, cancellationToken) is not { } sp)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, sp.UpdatedAt);
        return TypedResults.Ok(sp.Registration);
    }

    private static async Task<Ok<SamlServiceProviderDto>> PutAsync(
        Guid id, SamlServiceProviderDto request, IfMatch ifMatch, SamlServiceProviders providers, HttpContext http, CancellationToken cancellationToken)
    {
        var saved = await providers.SaveAsync(id, request, ifMatch.Revision, cancellationToken);
        ETags.Set(http, saved.UpdatedAt);
        return TypedResults.Ok(saved.Registration);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, SamlServiceProviders providers, CancellationToken cancellationToken)
    {
        await providers.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Registers (or replaces) the SP from its metadata; endpoints with bindings IdentityHub does not speak are listed in "skipped".</summary>
    private static async Task<Ok<SamlMetadataImportResponse>> ImportMetadataAsync(
        Guid id, SamlMetadataImportRequest request, IfMatch ifMatch, SamlServiceProviders providers, HttpContext http, CancellationToken cancellationToken)
    {
        var imported = await providers.ImportAsync(id, request, ifMatch.Revision, cancellationToken);
        ETags.Set(http, imported.ServiceProvider.UpdatedAt);
        return TypedResults.Ok(new SamlMetadataImportResponse(imported.ServiceProvider.Registration, imported.Skipped));
    }
}

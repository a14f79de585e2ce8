using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record ClientSecretResponse(string ClientId, string ClientSecret);

/// <summary>
/// /applications/{id}/oidc: the application's OIDC client (an OpenIddict application). The server draws
/// the client id and the secret; the secret is returned once and stored only as a digest. The ETag is the
/// application's revision (every client change moves it); If-Match is optional.
/// </summary>
public static class ApplicationOidcApi
{
    public static void MapApplicationOidcApi(this IEndpointRouteBuilder api)
    {
        var oidc = api.MapGroup("/applications/{id:guid}/oidc");
        oidc.MapGet("/", GetAsync).WithSummary("Get the application's OIDC client registration");
        oidc.MapPut("/", PutAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Register or replace the application's OIDC client");
        oidc.MapDelete("/", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Remove the application's OIDC client");
        oidc.MapPost("/secret", RotateSecretAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Rotate the OIDC client's secret (the new secret is shown once)");
    }

    private static async Task<Results<Ok<ClientRegistrationResponse>, NotFound>> GetAsync(
        Guid id, OidcClientQueries clients, HttpContext http, CancellationToken cancellationToken)
    {
        if (await clients.GetAsync(id, cancellationToken) is not { } view)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, view.UpdatedAt);
        return TypedResults.Ok(view.Registration);
    }

    /// <summary>Creates or replaces the client; the client id stays, a secret is kept unless the method no longer uses one.</summary>
    private static async Task<Ok<ClientRegistrationResponse>> PutAsync(
        Guid id, ClientRegistrationRequest request, IfMatch ifMatch, OidcClients clients, OidcClientQueries queries, HttpContext http,
        CancellationToken cancellationToken)
    {
        var registered = await clients.RegisterAsync(id, request, ifMatch.Revision, cancellationToken);
        await SetETagAsync(id, queries, http, cancellationToken);
        return TypedResults.Ok(registered);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, OidcClients clients, CancellationToken cancellationToken)
    {
        await clients.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Replaces the secret at once: the old one stops working (on other nodes within the client cache expiry).</summary>
    private static async Task<Ok<ClientSecretResponse>> RotateSecretAsync(
        Guid id, IfMatch ifMatch, OidcClients clients, OidcClientQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var issued = await clients.RotateSecretAsync(id, ifMatch.Revision, cancellationToken);
        await SetETagAsync(id, queries, http, cancellationToken);
        return TypedResults.Ok(new ClientSecretResponse(issued.ClientId, issued.ClientSecret));
    }

    private static async Task SetETagAsync(Guid id, OidcClientQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is { } view)
        {
            ETags.Set(http, view.UpdatedAt);
        }
    }
}

using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

public sealed record ClientSecretResponse(string ClientId, string ClientSecret);

/// <summary>
/// /applications/{id}/oidc: the application's OIDC client (an OpenIddict application). The server draws
/// the client id and the secret; the secret is returned once and stored only as a digest.
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
        Guid id, OidcClientQueries clients, CancellationToken cancellationToken) =>
        await clients.GetAsync(id, cancellationToken) is { } registration ? TypedResults.Ok(registration) : TypedResults.NotFound();

    /// <summary>Creates or replaces the client; the client id stays, a secret is kept unless the method no longer uses one.</summary>
    private static async Task<Ok<ClientRegistrationResponse>> PutAsync(
        Guid id, ClientRegistrationRequest request, OidcClients clients, CancellationToken cancellationToken) =>
        TypedResults.Ok(await clients.RegisterAsync(id, request, cancellationToken));

    private static async Task<NoContent> DeleteAsync(Guid id, OidcClients clients, CancellationToken cancellationToken)
    {
        await clients.DeleteAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Replaces the secret at once: the old one stops working (on other nodes within the client cache expiry).</summary>
    private static async Task<Ok<ClientSecretResponse>> RotateSecretAsync(Guid id, OidcClients clients, CancellationToken cancellationToken)
    {
        var issued = await clients.RotateSecretAsync(id, cancellationToken);
        return TypedResults.Ok(new ClientSecretResponse(issued.ClientId, issued.ClientSecret));
    }
}

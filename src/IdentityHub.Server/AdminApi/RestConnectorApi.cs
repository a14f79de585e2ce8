using IdentityHub.Provisioning.Connectors.Rest;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// The REST connector's extras: /connector-presets (the presets an administrator picks from), /connectors/{id}/test
/// (authenticate and call the list or get operation) and /connectors/{id}/preview?userId= (the exact requests a user
/// would produce now, nothing sent).
/// </summary>
public static class RestConnectorApi
{
    public static void MapRestConnectorApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/connector-presets", (RestPresets presets) => TypedResults.Ok(presets.All));
        var connector = api.MapGroup("/connectors/{id:guid}");
        connector.MapPost("/test", TestAsync).RequireAuthorization(AdminApiPolicies.Security);
        // Security administrators only: a preview carries a valid signature, which the vendor would accept for a few minutes.
        connector.MapGet("/preview", PreviewAsync).RequireAuthorization(AdminApiPolicies.Security);
    }

    private static async Task<Ok<RestTestResult>> TestAsync(Guid id, RestConnectorTools tools, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tools.TestAsync(id, cancellationToken));

    private static async Task<Ok<RestPreview>> PreviewAsync(Guid id, string? userId, RestConnectorTools tools, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tools.PreviewAsync(id, userId ?? "", cancellationToken));
}

using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// /connectors/{id}/drift and /connectors/{id}/full-sync: compare a SCIM target with IdentityHub, fix the drift,
/// push everyone again and watch the progress. Reads for any administrator, writes for security administrators.
/// </summary>
public static class ReconciliationApi
{
    public static void MapReconciliationApi(this IEndpointRouteBuilder api)
    {
        var connector = api.MapGroup("/connectors/{id:guid}");
        connector.MapGet("/drift", DriftAsync);
        connector.MapPost("/drift/fix", FixAsync).RequireAuthorization(AdminApiPolicies.Security);
        connector.MapPost("/full-sync", StartFullSyncAsync).RequireAuthorization(AdminApiPolicies.Security);
        connector.MapGet("/full-sync", FullSyncAsync);
    }

    /// <summary>The latest report; <c>?refresh=true</c> (or no report yet) reads the target now.</summary>
    private static Task<IResult> DriftAsync(Guid id, Reconciler reconciler, CancellationToken cancellationToken, bool refresh = false) =>
        Guarded(async () =>
        {
            var report = refresh ? null : await reconciler.LatestAsync(id, cancellationToken);
            return TypedResults.Ok(report ?? await reconciler.CheckAsync(id, cancellationToken));
        });

    private static Task<IResult> FixAsync(Guid id, Reconciler reconciler, CancellationToken cancellationToken) =>
        Guarded(async () => TypedResults.Ok(await reconciler.FixAsync(id, cancellationToken)));

    private static Task<IResult> StartFullSyncAsync(Guid id, Reconciler reconciler, CancellationToken cancellationToken) =>
        Guarded(async () => TypedResults.Accepted($"{AdminApiSetup.BasePath}/connectors/{id}/full-sync", await reconciler.StartFullSyncAsync(id, cancellationToken)));

    private static Task<IResult> FullSyncAsync(Guid id, Reconciler reconciler, CancellationToken cancellationToken) =>
        Guarded(async () => await reconciler.FullSyncProgressAsync(id, cancellationToken) is { } progress
            ? TypedResults.Ok(progress)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No full sync yet", detail: "POST to this address starts one."));

    /// <summary>Unknown or non-SCIM connectors as 404/400, an unreachable or refusing target as 502 (RFC 9457).</summary>
    private static async Task<IResult> Guarded(Func<Task<IResult>> work)
    {
        try
        {
            return await work();
        }
        catch (ReconciliationException ex)
        {
            return TypedResults.Problem(statusCode: ex.Status, title: ex.Title, detail: ex.Message);
        }
        catch (ScimCallException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The SCIM target could not be read", detail: ex.Message);
        }
        catch (RestCallException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The REST vendor could not be read", detail: ex.Message);
        }
    }
}

using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// /connectors/{id}/drift and /connectors/{id}/full-sync: compare a connector's target with IdentityHub (for kinds whose
/// target can be listed; for others the report says why not), fix the drift, push everyone again and watch the
/// progress (every kind; a new connector's initial sync shows here too). Reads for any administrator, writes for
/// security administrators.
/// </summary>
public static class ReconciliationApi
{
    public static void MapReconciliationApi(this IEndpointRouteBuilder api)
    {
        var connector = api.MapGroup("/connectors/{id:guid}");
        connector.MapGet("/drift", DriftAsync).WithSummary("Get a connector's drift report");
        connector.MapPost("/drift/fix", FixAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Fix a connector's drift");
        connector.MapPost("/full-sync", StartFullSyncAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Start a full sync");
        connector.MapGet("/full-sync", FullSyncAsync).WithSummary("Get the progress of a connector's full sync");
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

    private static async Task<Accepted<FullSyncProgress>> StartFullSyncAsync(Guid id, FullSyncs fullSyncs, CancellationToken cancellationToken) =>
        TypedResults.Accepted($"{AdminApiSetup.BasePath}/connectors/{id}/full-sync", await fullSyncs.StartAsync(id, cancellationToken));

    private static async Task<IResult> FullSyncAsync(Guid id, FullSyncs fullSyncs, CancellationToken cancellationToken) =>
        await fullSyncs.ProgressAsync(id, cancellationToken) is { } progress
            ? TypedResults.Ok(progress)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No full sync yet", detail: "POST to this address starts one.");

    /// <summary>A target that cannot be read or refuses as 502 (RFC 9457); unknown connectors are the Core's 404 (RuleViolation).</summary>
    private static async Task<IResult> Guarded(Func<Task<IResult>> work)
    {
        try
        {
            return await work();
        }
        catch (ConnectorCallException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "The connector's target could not be read", detail: ex.Message);
        }
    }
}

using System.Text.Json;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// A connector as sent: <c>kind</c> names a connector kind ("rest", "scim", "webhook"); <c>settings</c> is that kind's settings
/// object (see the schema); <c>secret</c> is write-only (webhook secrets are generated); <c>preset</c> (on creation) names one
/// of the kind's presets (<c>GET /connector-presets</c>), whose settings the given <c>settings</c> are laid over.
/// </summary>
public sealed record ConnectorRequest(string? Kind, string? Name, JsonElement Settings, string? Secret, string? Preset = null);

/// <summary>
/// <see cref="Secret"/> is set once, in the answer to the creation, when IdentityHub generated it; <see cref="InitialSync"/>
/// likewise, when the creation queued the application's users (see <c>GET /connectors/{id}/full-sync</c>).
/// </summary>
public sealed record ConnectorDto(
    Guid Id, Guid ApplicationId, string ApplicationName, string Name, string Kind, bool Paused, JsonElement Settings, bool HasSecret, DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt, string? Secret = null, FullSyncProgress? InitialSync = null);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, int Page, int PageSize, int Total);

public sealed record ReplayResult(int Replayed);

/// <summary>
/// Provisioning connectors: /applications/{id}/connectors (list, create), /connector-presets, and /connectors/{id} (read,
/// change, delete, pause, resume, test connection, dry-run preview, status, dead letters with replay, delivery history and
/// chart figures). The rules are the <see cref="Connectors"/> service's; reads come from <see cref="ConnectorQueries"/>.
/// </summary>
public static class ConnectorsApi
{
    private const int MaxPageSize = 100;
    private const int MaxHistory = 500;

    public static void MapConnectorsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/applications/{id:guid}/connectors", ListAsync).WithSummary("List an application's connectors");
        api.MapPost("/applications/{id:guid}/connectors", CreateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Create a connector for an application");
        api.MapGet("/connector-presets", (ConnectorKinds kinds) => TypedResults.Ok(kinds.Presets)).WithSummary("List the connector presets (vendor REST APIs)");

        var connectors = api.MapGroup("/connectors");
        connectors.MapGet("/{id:guid}", GetAsync).WithName("GetConnector").WithSummary("Get a connector");
        connectors.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Update a connector");
        connectors.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Delete a connector");
        connectors.MapPost("/{id:guid}/pause", (Guid id, Connectors service, ConnectorOperations operations, CancellationToken ct) => SetPausedAsync(id, true, service, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security).WithSummary("Pause a connector (changes queue)");
        connectors.MapPost("/{id:guid}/resume", (Guid id, Connectors service, ConnectorOperations operations, CancellationToken ct) => SetPausedAsync(id, false, service, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security).WithSummary("Resume a paused connector");
        // Calls the target with the stored secret: for those who may change the connector.
        connectors.MapPost("/{id:guid}/test", TestAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Test a connector's connection to its target");
        // A preview carries a valid signature, which the vendor would accept for a few minutes: security administrators only.
        connectors.MapGet("/{id:guid}/preview", PreviewAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Preview the exact requests a user's delivery would send now");
        connectors.MapGet("/{id:guid}/status", StatusAsync).WithSummary("Get a connector's queue and health");
        connectors.MapGet("/{id:guid}/dead-letters", DeadLettersAsync).WithSummary("List a connector's dead letters");
        connectors.MapPost("/{id:guid}/dead-letters/replay", (Guid id, ConnectorQueries queries, ConnectorOperations operations, CancellationToken ct) => ReplayAsync(id, null, queries, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security).WithSummary("Replay all of a connector's dead letters");
        // No route constraint on rowId: a non-number is a 400 from binding, after authorization, like any bad input.
        connectors.MapPost("/{id:guid}/dead-letters/{rowId}/replay", (Guid id, long rowId, ConnectorQueries queries, ConnectorOperations operations, CancellationToken ct) => ReplayAsync(id, rowId, queries, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security).WithSummary("Replay one dead letter");
        connectors.MapGet("/{id:guid}/deliveries", HistoryAsync).WithSummary("List a connector's deliveries");
        connectors.MapGet("/{id:guid}/deliveries/stats", StatsAsync).WithSummary("Get a connector's delivery statistics");
    }

    internal static ConnectorDto ToDto(ConnectorView c, string? secret = null, FullSyncProgress? initialSync = null)
    {
        using var settings = JsonDocument.Parse(c.Settings);
        return new ConnectorDto(c.Id, c.ApplicationId, c.ApplicationName, c.Name, c.KindName, c.Paused, settings.RootElement.Clone(), c.HasSecret, c.CreatedAt, c.UpdatedAt,
            secret, initialSync);
    }

    private static async Task<Results<Ok<List<ConnectorDto>>, NotFound>> ListAsync(Guid id, ConnectorQueries queries, CancellationToken cancellationToken) =>
        await queries.OfApplicationAsync(id, cancellationToken) is { } connectors
            ? TypedResults.Ok(connectors.Select(c => ToDto(c)).ToList())
            : TypedResults.NotFound();

    private static async Task<Results<CreatedAtRoute<ConnectorDto>, NotFound>> CreateAsync(
        Guid id, ConnectorRequest request, Connectors connectors, ConnectorQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var created = await connectors.CreateAsync(id, InputOf(request), cancellationToken);
        var view = await queries.GetAsync(created.Connector.Id, cancellationToken);
        if (view is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, view.UpdatedAt);
        // A generated secret is shown this once; afterwards only HasSecret tells it exists.
        return TypedResults.CreatedAtRoute(ToDto(view, created.GeneratedSecret, created.InitialSync), "GetConnector", new { id = view.Id });
    }

    private static async Task<Results<Ok<ConnectorDto>, NotFound>> GetAsync(Guid id, ConnectorQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is not { } connector)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, connector.UpdatedAt);
        return TypedResults.Ok(ToDto(connector));
    }

    /// <summary>Changes the name and settings; a secret is replaced only when sent (never for webhooks: theirs is generated). If-Match is honoured.</summary>
    private static async Task<Results<Ok<ConnectorDto>, NotFound>> UpdateAsync(
        Guid id, ConnectorRequest request, IfMatch ifMatch, Connectors connectors, ConnectorQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await connectors.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    /// <summary>Deletes the connector with its queue, states and history (cascade). If-Match is honoured.</summary>
    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, Connectors connectors, CancellationToken cancellationToken)
    {
        await connectors.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<ConnectorStatus>> SetPausedAsync(Guid id, bool paused, Connectors connectors, ConnectorOperations operations, CancellationToken cancellationToken)
    {
        var connector = await connectors.SetPausedAsync(id, paused, cancellationToken);
        return TypedResults.Ok(await operations.StatusAsync(connector.Id, connector.Paused, cancellationToken));
    }

    /// <summary>Authenticates to the target and reads something harmless: 200 with the outcome (succeeded, failed or not-available) and the target's answer.</summary>
    private static async Task<Ok<ConnectionTestResult>> TestAsync(Guid id, Connectors connectors, CancellationToken cancellationToken) =>
        TypedResults.Ok(await connectors.TestAsync(id, cancellationToken));

    /// <summary>The exact requests the next delivery of <paramref name="userId"/> would send now (method, URL, headers with the signature, body); nothing is sent.</summary>
    private static async Task<Ok<ConnectorPreview>> PreviewAsync(Guid id, string? userId, Connectors connectors, CancellationToken cancellationToken) =>
        TypedResults.Ok(await connectors.PreviewAsync(id, userId, cancellationToken));

    private static async Task<Results<Ok<ConnectorStatus>, NotFound>> StatusAsync(Guid id, ConnectorQueries queries, ConnectorOperations operations, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } connector
            ? TypedResults.Ok(await operations.StatusAsync(connector.Id, connector.Paused, cancellationToken))
            : TypedResults.NotFound();

    private static async Task<Results<Ok<DeadLetterPage>, NotFound, ValidationProblem>> DeadLettersAsync(
        Guid id, ConnectorQueries queries, ConnectorOperations operations, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        if (PagingErrors(page, pageSize) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var items = await operations.DeadLettersAsync(id, (page - 1) * pageSize, pageSize, cancellationToken);
        return TypedResults.Ok(new DeadLetterPage(items, page, pageSize, await operations.CountDeadLettersAsync(id, cancellationToken)));
    }

    private static async Task<Results<Ok<ReplayResult>, NotFound>> ReplayAsync(
        Guid id, long? rowId, ConnectorQueries queries, ConnectorOperations operations, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var replayed = await operations.ReplayAsync(id, rowId, cancellationToken);
        // One row asked for by id that is not (or no longer) dead: nothing to replay is a 404 for that row.
        return rowId is not null && replayed == 0 ? TypedResults.NotFound() : TypedResults.Ok(new ReplayResult(replayed));
    }

    private static async Task<Results<Ok<List<DeliveryRecord>>, NotFound, ValidationProblem>> HistoryAsync(
        Guid id, ConnectorQueries queries, ConnectorOperations operations, CancellationToken cancellationToken, string? userId = null, int limit = 100)
    {
        if (limit is < 1 or > MaxHistory)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {MaxHistory}."] });
        }

        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await operations.HistoryAsync(id, string.IsNullOrEmpty(userId) ? null : userId, limit, cancellationToken));
    }

    private static async Task<Results<Ok<List<DeliveryBucket>>, NotFound, ValidationProblem>> StatsAsync(
        Guid id, ConnectorQueries queries, ConnectorOperations operations, CancellationToken cancellationToken, string bucket = "minute")
    {
        TimeSpan? size = bucket switch
        {
            "minute" => TimeSpan.FromMinutes(1),
            "hour" => TimeSpan.FromHours(1),
            "day" => TimeSpan.FromDays(1),
            _ => null,
        };
        if (size is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["bucket"] = ["bucket must be minute, hour or day."] });
        }

        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await operations.StatsAsync(id, size.Value, cancellationToken));
    }

    private static Dictionary<string, string[]>? PagingErrors(int page, int pageSize) =>
        page < 1 ? new() { ["page"] = ["page starts at 1."] }
        : pageSize is < 1 or > MaxPageSize ? new() { ["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."] }
        : null;

    private static ConnectorInput InputOf(ConnectorRequest r) => new(r.Kind, r.Name, r.Settings, r.Secret, r.Preset);
}

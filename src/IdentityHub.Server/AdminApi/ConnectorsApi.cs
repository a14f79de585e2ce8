using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// A connector as sent: <c>kind</c> is "webhook", "scim" or "rest"; <c>secret</c> is write-only (webhook secrets are generated);
/// <c>preset</c> (rest, on creation) names a preset whose settings the given <c>settings</c> are laid over.
/// </summary>
public sealed record ConnectorRequest(string? Kind, string? Name, JsonElement Settings, string? Secret, string? Preset = null);

/// <summary><see cref="Secret"/> is set once, in the answer to the creation, when IdentityHub generated it.</summary>
public sealed record ConnectorDto(
    Guid Id, Guid ApplicationId, string Name, string Kind, bool Paused, JsonElement Settings, bool HasSecret, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Secret = null);

public sealed record DeadLetterPage(IReadOnlyList<DeadLetter> Items, int Page, int PageSize, int Total);

public sealed record ReplayResult(int Replayed);

/// <summary>
/// Provisioning connectors: /applications/{id}/connectors (list, create) and /connectors/{id} (read, change, delete,
/// pause, resume, status, dead letters with replay, delivery history and chart figures).
/// </summary>
public static class ConnectorsApi
{
    private const int MaxPageSize = 100;
    private const int MaxHistory = 500;

    public static void MapConnectorsApi(this IEndpointRouteBuilder api)
    {
        api.MapGet("/applications/{id:guid}/connectors", ListAsync);
        api.MapPost("/applications/{id:guid}/connectors", CreateAsync).RequireAuthorization(AdminApiPolicies.Security);

        var connectors = api.MapGroup("/connectors");
        connectors.MapGet("/{id:guid}", GetAsync).WithName("GetConnector");
        connectors.MapPut("/{id:guid}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Security);
        connectors.MapDelete("/{id:guid}", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security);
        connectors.MapPost("/{id:guid}/pause", (Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken ct) => SetPausedAsync(id, true, db, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security);
        connectors.MapPost("/{id:guid}/resume", (Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken ct) => SetPausedAsync(id, false, db, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security);
        connectors.MapGet("/{id:guid}/status", StatusAsync);
        connectors.MapGet("/{id:guid}/dead-letters", DeadLettersAsync);
        connectors.MapPost("/{id:guid}/dead-letters/replay", (Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken ct) => ReplayAsync(id, null, db, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security);
        // No route constraint on rowId: a non-number is a 400 from binding, after authorization, like any bad input.
        connectors.MapPost("/{id:guid}/dead-letters/{rowId}/replay", (Guid id, long rowId, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken ct) => ReplayAsync(id, rowId, db, operations, ct))
            .RequireAuthorization(AdminApiPolicies.Security);
        connectors.MapGet("/{id:guid}/deliveries", HistoryAsync);
        connectors.MapGet("/{id:guid}/deliveries/stats", StatsAsync);
    }

    internal static ConnectorDto ToDto(Connector c, string? secret = null)
    {
        using var settings = JsonDocument.Parse(c.Settings);
        return new ConnectorDto(c.Id, c.ApplicationId, c.Name, KindName(c.Kind), c.Paused, settings.RootElement.Clone(), c.ProtectedSecret is not null, c.CreatedAt, c.UpdatedAt, secret);
    }

    private static string KindName(ConnectorKind kind) => kind switch
    {
        ConnectorKind.Webhook => "webhook",
        ConnectorKind.Rest => "rest",
        _ => "scim",
    };

    private static async Task<Results<Ok<List<ConnectorDto>>, NotFound>> ListAsync(Guid id, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var connectors = await db.Connectors.AsNoTracking().Where(c => c.ApplicationId == id).OrderBy(c => c.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(connectors.Select(c => ToDto(c)).ToList());
    }

    private static async Task<Results<CreatedAtRoute<ConnectorDto>, NotFound, ValidationProblem>> CreateAsync(
        Guid id, ConnectorRequest request, IdentityHubDbContext db, IEnumerable<IConnectorSettingsValidator> validators, ConnectorSecrets secrets, TimeProvider clock,
        AuditTrail audit, RestPresets presets, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        ConnectorKind? kind = request.Kind?.Trim().ToLowerInvariant() switch
        {
            "webhook" => ConnectorKind.Webhook,
            "scim" => ConnectorKind.Scim,
            "rest" => ConnectorKind.Rest,
            _ => null,
        };
        if (kind is null)
        {
            errors["kind"] = ["kind must be \"webhook\", \"scim\" or \"rest\"."];
        }

        if (request.Preset is { } presetName)
        {
            // A REST preset's settings, with the given ones laid over them, are what is checked and stored.
            if (kind != ConnectorKind.Rest || presets.Find(presetName.Trim()) is not { } preset)
            {
                errors["preset"] = [kind == ConnectorKind.Rest ? $"No preset named \"{presetName}\"; GET /connector-presets lists them." : "Presets exist for REST connectors only."];
            }
            else
            {
                request = request with { Settings = RestPresets.Merge(preset, request.Settings.ValueKind == JsonValueKind.Undefined ? default : request.Settings) };
            }
        }

        var validator = kind is { } k ? validators.FirstOrDefault(v => v.Kind == k) : null;
        var settings = await ValidateAsync(request, kind, validator, hasStoredSecret: false, db, id, connectorId: null, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var generated = validator?.GenerateSecret();
        var secret = generated ?? request.Secret;
        var now = Revision.Now(clock);
        var connector = new Connector
        {
            Id = Guid.CreateVersion7(),
            ApplicationId = id,
            Name = request.Name!.Trim(),
            Kind = kind!.Value,
            Settings = settings!,
            ProtectedSecret = secret is null ? null : secrets.Protect(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Connectors.Add(connector);
        if (await SaveAuditedAsync(db, audit, connector, "connector.created", before: null, cancellationToken) is { } taken)
        {
            return TypedResults.ValidationProblem(taken);
        }

        // A generated secret is shown this once; afterwards only HasSecret tells it exists.
        return TypedResults.CreatedAtRoute(ToDto(connector, generated), "GetConnector", new { id = connector.Id });
    }

    private static async Task<Results<Ok<ConnectorDto>, NotFound>> GetAsync(Guid id, IdentityHubDbContext db, CancellationToken cancellationToken) =>
        await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } connector
            ? TypedResults.Ok(ToDto(connector))
            : TypedResults.NotFound();

    /// <summary>Changes the name and settings; a secret is replaced only when sent (never for webhooks: theirs is generated).</summary>
    private static async Task<Results<Ok<ConnectorDto>, NotFound, ValidationProblem>> UpdateAsync(
        Guid id, ConnectorRequest request, IdentityHubDbContext db, IEnumerable<IConnectorSettingsValidator> validators, ConnectorSecrets secrets, TimeProvider clock,
        AuditTrail audit, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (connector is null)
        {
            return TypedResults.NotFound();
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (request.Kind is { } kind && !string.Equals(kind.Trim(), KindName(connector.Kind), StringComparison.OrdinalIgnoreCase))
        {
            errors["kind"] = ["A connector's kind cannot change; create a new connector instead."];
        }

        var validator = validators.FirstOrDefault(v => v.Kind == connector.Kind);
        var settings = await ValidateAsync(request, connector.Kind, validator, connector.ProtectedSecret is not null, db, connector.ApplicationId, connector.Id, errors, cancellationToken);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var before = AuditSnapshot(connector);
        connector.Name = request.Name!.Trim();
        connector.Settings = settings!;
        if (request.Secret is { } secret)
        {
            connector.ProtectedSecret = secrets.Protect(secret);
        }

        connector.UpdatedAt = Revision.Now(clock);
        if (await SaveAuditedAsync(db, audit, connector, "connector.updated", before, cancellationToken) is { } taken)
        {
            return TypedResults.ValidationProblem(taken);
        }

        return TypedResults.Ok(ToDto(connector));
    }

    /// <summary>Deletes the connector with its queue, states and history (cascade).</summary>
    private static async Task<Results<NoContent, NotFound>> DeleteAsync(Guid id, IdentityHubDbContext db, AuditTrail audit, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (connector is null)
        {
            return TypedResults.NotFound();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Connectors.Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken);
        await audit.RecordAsync("connector.deleted", "connector", id.ToString(), AuditSnapshot(connector), null, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>What the audit trail keeps of a connector: never its secret.</summary>
    private static object AuditSnapshot(Connector c) => new { c.Id, c.ApplicationId, c.Name, Kind = KindName(c.Kind), c.Paused, c.Settings, HasSecret = c.ProtectedSecret is not null };

    /// <summary>Saves the change with its audit event in one transaction.</summary>
    private static async Task<Dictionary<string, string[]>?> SaveAuditedAsync(
        IdentityHubDbContext db, AuditTrail audit, Connector connector, string type, object? before, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await audit.RecordAsync(type, "connector", connector.Id.ToString(), before, AuditSnapshot(connector), cancellationToken);
        if (await SaveUnlessNameTakenAsync(db, connector, cancellationToken) is { } taken)
        {
            return taken;
        }

        await transaction.CommitAsync(cancellationToken);
        return null;
    }

    private static async Task<Results<Ok<ConnectorStatus>, NotFound>> SetPausedAsync(
        Guid id, bool paused, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.SingleOrDefaultAsync(c => c.Id == id, cancellationToken);
        if (connector is null)
        {
            return TypedResults.NotFound();
        }

        await operations.SetPausedAsync(connector, paused, cancellationToken);
        return TypedResults.Ok(await operations.StatusAsync(connector, cancellationToken));
    }

    private static async Task<Results<Ok<ConnectorStatus>, NotFound>> StatusAsync(Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken) =>
        await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) is { } connector
            ? TypedResults.Ok(await operations.StatusAsync(connector, cancellationToken))
            : TypedResults.NotFound();

    private static async Task<Results<Ok<DeadLetterPage>, NotFound, ValidationProblem>> DeadLettersAsync(
        Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken, int page = 1, int pageSize = 50)
    {
        if (PagingErrors(page, pageSize) is { } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (!await db.Connectors.AnyAsync(c => c.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var items = await operations.DeadLettersAsync(id, (page - 1) * pageSize, pageSize, cancellationToken);
        return TypedResults.Ok(new DeadLetterPage(items, page, pageSize, await operations.CountDeadLettersAsync(id, cancellationToken)));
    }

    private static async Task<Results<Ok<ReplayResult>, NotFound>> ReplayAsync(
        Guid id, long? rowId, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken)
    {
        if (!await db.Connectors.AnyAsync(c => c.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var replayed = await operations.ReplayAsync(id, rowId, cancellationToken);
        // One row asked for by id that is not (or no longer) dead: nothing to replay is a 404 for that row.
        return rowId is not null && replayed == 0 ? TypedResults.NotFound() : TypedResults.Ok(new ReplayResult(replayed));
    }

    private static async Task<Results<Ok<List<DeliveryRecord>>, NotFound, ValidationProblem>> HistoryAsync(
        Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken, string? userId = null, int limit = 100)
    {
        if (limit is < 1 or > MaxHistory)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = [$"limit must be between 1 and {MaxHistory}."] });
        }

        if (!await db.Connectors.AnyAsync(c => c.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await operations.HistoryAsync(id, string.IsNullOrEmpty(userId) ? null : userId, limit, cancellationToken));
    }

    private static async Task<Results<Ok<List<DeliveryBucket>>, NotFound, ValidationProblem>> StatsAsync(
        Guid id, IdentityHubDbContext db, ConnectorOperations operations, CancellationToken cancellationToken, string bucket = "minute")
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

        if (!await db.Connectors.AnyAsync(c => c.Id == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await operations.StatsAsync(id, size.Value, cancellationToken));
    }

    private static Dictionary<string, string[]>? PagingErrors(int page, int pageSize) =>
        page < 1 ? new() { ["page"] = ["page starts at 1."] }
        : pageSize is < 1 or > MaxPageSize ? new() { ["pageSize"] = [$"pageSize must be between 1 and {MaxPageSize}."] }
        : null;

    /// <summary>Checks name and settings; returns the settings JSON to store, or null with <paramref name="errors"/> filled.</summary>
    private static async Task<string?> ValidateAsync(
        ConnectorRequest request, ConnectorKind? kind, IConnectorSettingsValidator? validator, bool hasStoredSecret, IdentityHubDbContext db, Guid applicationId, Guid? connectorId,
        Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["name is required, at most 200 characters."];
        }
        else if (await db.Connectors.AnyAsync(c => c.ApplicationId == applicationId && c.Name == name && c.Id != connectorId, cancellationToken))
        {
            errors["name"] = NameTaken(name);
        }

        if (request.Settings.ValueKind != JsonValueKind.Object)
        {
            errors["settings"] = ["settings must be a JSON object."];
            return null;
        }

        if (request.Secret is { Length: 0 or > 2000 })
        {
            errors["secret"] = ["secret must be 1 to 2000 characters when sent."];
        }

        if (kind is not null && validator is not null)
        {
            foreach (var (field, messages) in validator.Validate(request.Settings, request.Secret, hasStoredSecret))
            {
                errors[field] = messages;
            }
        }

        var json = request.Settings.GetRawText();
        if (json.Length > 8000)
        {
            errors["settings"] = ["settings must be at most 8000 characters of JSON."];
        }

        return json;
    }

    private static string[] NameTaken(string name) => [$"This application already has a connector named \"{name}\"."];

    /// <summary>A name taken by a concurrent request between the check and the save is the same 400, not a 500.</summary>
    private static async Task<Dictionary<string, string[]>?> SaveUnlessNameTakenAsync(IdentityHubDbContext db, Connector connector, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }
        catch (DbUpdateException)
        {
            if (await db.Connectors.AsNoTracking().AnyAsync(c => c.ApplicationId == connector.ApplicationId && c.Name == connector.Name && c.Id != connector.Id, cancellationToken))
            {
                return new Dictionary<string, string[]> { ["name"] = NameTaken(connector.Name) };
            }

            throw;
        }
    }
}

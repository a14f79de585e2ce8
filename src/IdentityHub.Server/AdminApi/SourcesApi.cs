using System.Text.Json;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// An inbound source as sent: <c>kind</c> "scim" (the source pushes to <c>/scim/v2</c> with its own token) or "rest" (IdentityHub
/// pulls it); <c>subtrees</c> the departments it writes (with everything below); <c>ownedAttributes</c> the attributes it owns
/// (omitted: displayName, department, manager, status); <c>conflictPolicy</c> "refuse" or "overwrite"; <c>inviteNewUsers</c>
/// true mails an invitation to each person the source creates with an e-mail address (omitted: false); <c>settings</c> and the
/// write-only <c>secret</c> for REST sources. A PUT sends the whole source (kind may be left out: it cannot change).
/// </summary>
public sealed record SourceRequest(
    string? Name, string? Kind, IReadOnlyList<Guid>? Subtrees, IReadOnlyList<string>? OwnedAttributes, string? ConflictPolicy, bool? Enabled,
    JsonElement Settings, string? Secret, bool? InviteNewUsers = null);

/// <summary>One run: <c>kind</c> push, increment, reconciliation or dry-run; <c>report</c> only where a run has one (GET /runs).</summary>
public sealed record SourceRunDto(
    Guid Id, string Kind, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string RequestedBy, int Created, int Updated, int Left, int Skipped,
    int Conflicts, int Failed, IReadOnlyList<string> Errors, string? Failure, bool HasReport);

public sealed record SourceSummaryDto(Guid Id, string Name, string Kind, bool Enabled, string Health, SourceRunDto? LastRun, int People, int Departments);

public sealed record SourceSubtreeDto(Guid Id, string Code, string Name, string Path);

public sealed record SourceConflictDto(
    long Id, string UserId, string? UserDisplayName, string? UserName, string Attribute, string? LocalValue, string? SourceValue, string Resolution,
    string? ChangedBy, DateTimeOffset OccurredAt);

/// <summary>The latest report as the source wrote it (<c>report</c>), with the run it belongs to.</summary>
public sealed record SourceReportDto(Guid RunId, string Kind, DateTimeOffset StartedAt, JsonElement Report);

/// <summary>
/// A source with everything the console shows. <see cref="Token"/> is set once, in the answer to the creation of a SCIM source
/// (and to a rotation, see <see cref="SourceTokenDto"/>); afterwards only <see cref="TokenHint"/> tells which token it holds.
/// <see cref="ScimUrl"/> is the base URL to give the OA or HR system. <see cref="InviteNewUsers"/>: the people the source creates
/// with an e-mail address are mailed an invitation.
/// </summary>
public sealed record SourceDto(
    Guid Id, string Name, string Kind, bool Enabled, string Health, IReadOnlyList<SourceSubtreeDto> Subtrees, IReadOnlyList<string> OwnedAttributes,
    string ConflictPolicy, bool InviteNewUsers, JsonElement Settings, bool HasSecret, string? TokenHint, DateTimeOffset? TokenIssuedAt, string? Cursor, bool FirstImportApproved,
    DateTimeOffset? NextIncrementAt, DateTimeOffset? NextReconciliationAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int People, int Departments,
    IReadOnlyList<SourceRunDto> Runs, IReadOnlyList<string> LastErrors, SourceReportDto? Report, IReadOnlyList<SourceConflictDto> Conflicts,
    string? ScimUrl, string? Token = null);

/// <summary>What to run now: <c>kind</c> "increment", "reconciliation" or "dry-run".</summary>
public sealed record SourceRunRequest(string? Kind);

/// <summary>A push source's new bearer token, shown this once, and the SCIM base URL it is used at.</summary>
public sealed record SourceTokenDto(string Token, string Hint, string ScimUrl);

/// <summary>
/// Inbound sources (the OA and HR systems the organisation comes in from) under /sources: list, read, create, change, delete,
/// the push sources' bearer tokens (issued once, rotated, revoked), and their runs and conflicts. Super administrators only, as
/// the <see cref="InboundSources"/> registry itself insists; reads come from <see cref="InboundSourceQueries"/>.
/// </summary>
public static class SourcesApi
{
    /// <summary>The path of the SCIM 2.0 service provider sources push to.</summary>
    public const string ScimPath = "/scim/v2";

    public static void MapSourcesApi(this IEndpointRouteBuilder api)
    {
        // A source writes the directory as an HR administrator of its subtrees: only super administrators see or change one.
        var sources = api.MapGroup("/sources").RequireAuthorization(AdminApiPolicies.SuperAdmin);
        sources.MapGet("", ListAsync).WithSummary("List the inbound sources with their health and last run");
        sources.MapPost("", CreateAsync).WithSummary("Create an inbound source (a SCIM source's token is in this answer only)");
        sources.MapGet("/{id:guid}", GetAsync).WithName("GetSource").WithSummary("Get an inbound source with its runs, errors, report and conflicts");
        sources.MapPut("/{id:guid}", UpdateAsync).WithSummary("Update an inbound source");
        sources.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Delete an inbound source (its people and departments stay)");
        sources.MapPost("/{id:guid}/token", RotateTokenAsync).WithSummary("Issue a new bearer token for a SCIM source (the old one stops working)");
        sources.MapDelete("/{id:guid}/token", RevokeTokenAsync).WithSummary("Revoke a SCIM source's bearer token");
        sources.MapPost("/{id:guid}/runs", RunNowAsync).WithSummary("Run a REST source now (increment, reconciliation or dry-run) and return the finished run");
        sources.MapPost("/{id:guid}/approve-first-import", ApproveFirstImportAsync).WithSummary("Approve a REST source's first import after reading its dry-run report");
        sources.MapGet("/{id:guid}/runs", RunsAsync).WithSummary("List a source's runs, newest first");
        sources.MapGet("/{id:guid}/conflicts", ConflictsAsync).WithSummary("List a source's attribute conflicts, newest first");
    }

    /// <summary>Where the sources push: this server's <c>/scim/v2</c>, as the caller reached it.</summary>
    public static string ScimUrlOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return $"{request.Scheme}://{request.Host}{request.PathBase}{ScimPath}";
    }

    public static string NameOf(InboundRunKind kind) => kind == InboundRunKind.DryRun ? "dry-run" : kind.ToString().ToLowerInvariant();

    public static string NameOf(SourceHealth health) => health == SourceHealth.NeverRun ? "never-run" : health.ToString().ToLowerInvariant();

    internal static SourceRunDto ToDto(InboundRunView r) =>
        new(r.Id, NameOf(r.Kind), r.StartedAt, r.FinishedAt, r.RequestedBy, r.Created, r.Updated, r.Left, r.Skipped, r.Conflicts, r.Failed, r.Errors, r.Failure, r.HasReport);

    private static SourceDto ToDto(InboundSourceDetail s, HttpRequest request, string? token = null)
    {
        using var settings = JsonDocument.Parse(s.Settings);
        return new SourceDto(
            s.Id, s.Name, s.Kind.ToString().ToLowerInvariant(), s.Enabled, NameOf(s.Health),
            [.. s.Subtrees.Select(t => new SourceSubtreeDto(t.DepartmentId, t.Code, t.Name, t.Path))], s.OwnedAttributes,
            s.ConflictPolicy.ToString().ToLowerInvariant(), s.InviteNewUsers, settings.RootElement.Clone(), s.HasSecret, s.TokenHint, s.TokenIssuedAt, s.Cursor,
            s.FirstImportApproved, s.NextIncrementAt, s.NextReconciliationAt, s.CreatedAt, s.UpdatedAt, s.People, s.Departments,
            [.. s.Runs.Select(ToDto)], s.LastErrors, null, [.. s.Conflicts.Select(ToDto)],
            s.Kind == InboundSourceKind.Scim ? ScimUrlOf(request) : null, token);
    }

    private static SourceConflictDto ToDto(InboundConflictView c) =>
        new(c.Id, c.UserId, c.UserDisplayName, c.UserName, c.Attribute, c.LocalValue, c.SourceValue, c.Resolution, c.ChangedBy, c.OccurredAt);

    private static async Task<Ok<List<SourceSummaryDto>>> ListAsync(InboundSourceQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok((await queries.ListAsync(cancellationToken))
            .Select(s => new SourceSummaryDto(s.Id, s.Name, s.Kind.ToString().ToLowerInvariant(), s.Enabled, NameOf(s.Health), s.LastRun is null ? null : ToDto(s.LastRun), s.People, s.Departments))
            .ToList());

    private static async Task<Results<Ok<SourceDto>, NotFound>> GetAsync(Guid id, InboundSourceQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is not { } source)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, source.UpdatedAt);
        return TypedResults.Ok(await WithReportAsync(ToDto(source, http.Request), queries, cancellationToken));
    }

    private static async Task<Results<CreatedAtRoute<SourceDto>, NotFound>> CreateAsync(
        SourceRequest request, InboundSources sources, InboundSourceQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var created = await sources.CreateAsync(InputOf(request, request.Kind), cancellationToken);
        if (await queries.GetAsync(created.Source.Id, cancellationToken) is not { } source)
        {
            return TypedResults.NotFound();
        }

        // A token is shown this once: never cached.
        http.Response.Headers.CacheControl = "no-store";
        ETags.Set(http, source.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(source, http.Request, created.Token?.Token), "GetSource", new { id = source.Id });
    }

    /// <summary>Replaces the source's name, subtrees, owned attributes, policy, enabled flag and settings; a secret only when sent. If-Match is honoured.</summary>
    private static async Task<Results<Ok<SourceDto>, NotFound>> UpdateAsync(
        Guid id, SourceRequest request, IfMatch ifMatch, InboundSources sources, InboundSourceQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, cancellationToken) is not { } stored)
        {
            return TypedResults.NotFound();
        }

        await sources.UpdateAsync(id, InputOf(request, request.Kind ?? stored.Kind.ToString()), ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<NoContent> DeleteAsync(Guid id, IfMatch ifMatch, InboundSources sources, CancellationToken cancellationToken)
    {
        await sources.DeleteAsync(id, ifMatch.Revision, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<SourceTokenDto>> RotateTokenAsync(Guid id, InboundSources sources, HttpContext http, CancellationToken cancellationToken)
    {
        var token = await sources.IssueTokenAsync(id, cancellationToken);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new SourceTokenDto(token.Token, token.Hint, ScimUrlOf(http.Request)));
    }

    private static async Task<NoContent> RevokeTokenAsync(Guid id, InboundSources sources, CancellationToken cancellationToken)
    {
        await sources.RevokeTokenAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Runs the pull through the <see cref="SourceRunner"/> and answers with the finished run (until the first import is approved, a dry run).</summary>
    private static async Task<Results<Ok<SourceRunDto>, ValidationProblem>> RunNowAsync(
        Guid id, SourceRunRequest request, SourceRunner runner, HttpContext http, CancellationToken cancellationToken)
    {
        if (RunKindOf(request.Kind) is not { } kind)
        {
            return Problems.Invalid("kind", "kind must be \"increment\", \"reconciliation\" or \"dry-run\".");
        }

        var run = await runner.RunAsync(id, kind, RequesterOf(http), cancellationToken);
        return TypedResults.Ok(ToDto(InboundSourceQueries.ViewOf(run)));
    }

    private static async Task<NoContent> ApproveFirstImportAsync(Guid id, SourceRunner runner, CancellationToken cancellationToken)
    {
        await runner.ApproveFirstImportAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>The run kinds an administrator may ask for, by their wire names; null for anything else (push is counted, not run).</summary>
    public static InboundRunKind? RunKindOf(string? kind) => kind?.Trim().ToLowerInvariant() switch
    {
        "increment" => InboundRunKind.Increment,
        "reconciliation" => InboundRunKind.Reconciliation,
        "dry-run" => InboundRunKind.DryRun,
        _ => null,
    };

    /// <summary>Who asked for a run, as the run records it: the administrator's name, or the client of a bearer token.</summary>
    public static string RequesterOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.User.Identity?.Name is { Length: > 0 } name ? name : http.User.FindFirst("client_id")?.Value ?? "api";
    }

    private static async Task<Results<Ok<Paged<SourceRunDto>>, NotFound, ValidationProblem>> RunsAsync(
        Guid id, [AsParameters] ListQuery list, InboundSourceQueries queries, CancellationToken cancellationToken)
    {
        if (PagingErrors(list) is { } errors)
        {
            return errors;
        }

        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var runs = await queries.RunsAsync(id, (list.PageNumber - 1) * list.Size, list.Size, cancellationToken);
        return TypedResults.Ok(new Paged<SourceRunDto>([.. runs.Select(ToDto)], list.PageNumber, list.Size, await queries.CountRunsAsync(id, cancellationToken)));
    }

    private static async Task<Results<Ok<Paged<SourceConflictDto>>, NotFound, ValidationProblem>> ConflictsAsync(
        Guid id, [AsParameters] ListQuery list, InboundSourceQueries queries, CancellationToken cancellationToken)
    {
        if (PagingErrors(list) is { } errors)
        {
            return errors;
        }

        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var conflicts = await queries.ConflictsAsync(id, (list.PageNumber - 1) * list.Size, list.Size, cancellationToken);
        return TypedResults.Ok(new Paged<SourceConflictDto>([.. conflicts.Select(ToDto)], list.PageNumber, list.Size, await queries.CountConflictsAsync(id, cancellationToken)));
    }

    /// <summary>Runs and conflicts take page and pageSize; they are always newest first, so a sort is refused by name.</summary>
    private static ValidationProblem? PagingErrors(ListQuery list)
    {
        var errors = Listing.Validate(list);
        if (!string.IsNullOrWhiteSpace(list.Sort))
        {
            errors["sort"] = ["Runs and conflicts are listed newest first; sort is not supported here."];
        }

        if (list.Search is not null)
        {
            errors["q"] = ["Runs and conflicts cannot be searched; page through them instead."];
        }

        return errors.Count == 0 ? null : TypedResults.ValidationProblem(errors);
    }

    /// <summary>The latest report as the source wrote it (the console lays it out; automation reads the JSON).</summary>
    private static async Task<SourceDto> WithReportAsync(SourceDto dto, InboundSourceQueries queries, CancellationToken cancellationToken)
    {
        if (await queries.LatestReportRunAsync(dto.Id, cancellationToken) is not { Report: { } text } run)
        {
            return dto;
        }

        JsonElement report;
        try
        {
            using var document = JsonDocument.Parse(text);
            report = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            report = JsonSerializer.SerializeToElement(text);
        }

        return dto with { Report = new SourceReportDto(run.Id, NameOf(run.Kind), run.StartedAt, report) };
    }

    private static InboundSourceInput InputOf(SourceRequest r, string? kind) =>
        new(r.Name, kind, r.Subtrees, r.OwnedAttributes, r.ConflictPolicy, r.Enabled ?? true, r.Settings, string.IsNullOrEmpty(r.Secret) ? null : r.Secret,
            r.InviteNewUsers ?? false);
}

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// An event as recorded (the hash covers those fields), with names looked up when it is read: <see cref="ActorDisplayName"/>
/// is the actor's display name now (or the recorded name), <see cref="TargetName"/> the target's name now, or as its
/// deletion recorded it when <see cref="TargetDeleted"/>.
/// </summary>
public sealed record AuditEventDto(
    long Sequence, DateTimeOffset OccurredAt, string Type, string ActorId, string ActorName, string? TargetType, string? TargetId,
    string? Before, string? After, string? IpAddress, string? UserAgent, string? CorrelationId, string PreviousHash, string Hash,
    string ActorDisplayName, string? TargetName, bool TargetDeleted);

public sealed record AuditVerificationDto(bool Intact, long Checked, long? FirstBrokenSequence, string? Problem);

/// <summary>The filters shared by the audit list and its export (the list's <c>q</c> is the free-text search).</summary>
public sealed record AuditFilter
{
    public string? Actor { get; init; }

    public string? TargetType { get; init; }

    public string? Target { get; init; }

    public string? Type { get; init; }

    public DateTimeOffset? From { get; init; }

    public DateTimeOffset? To { get; init; }

    public AuditSearch With(string? text) => new(Actor, TargetType, Target, Type, From, To, text);
}

/// <summary>/audit: the hash-chained trail of admin changes and security events; filter, verify, export.</summary>
public static class AuditApi
{
    private const int ExportBatch = 1000;

    private static readonly SortFields<AuditEvent> Sort = new SortFields<AuditEvent>("-sequence")
        .Add("sequence", e => e.Sequence)
        .Add("occurredAt", e => e.OccurredAt)
        .Add("type", e => e.Type);

    public static void MapAuditApi(this IEndpointRouteBuilder api)
    {
        var audit = api.MapGroup("/audit").RequireAuthorization(AdminApiPolicies.Audit);
        audit.MapGet("/", ListAsync).WithSummary("List audit events");
        audit.MapGet("/verify", VerifyAsync).WithSummary("Verify the audit trail's hash chain");
        audit.MapGet("/export", ExportAsync).WithSummary("Export the audit trail (CSV or JSON)");
    }

    private static AuditEventDto ToDto(AuditEntry entry)
    {
        var e = entry.Event;
        return new(
            e.Sequence, e.OccurredAt, e.Type, e.ActorId, e.ActorName, e.TargetType, e.TargetId, e.Before, e.After,
            e.IpAddress, e.UserAgent, e.CorrelationId, e.PreviousHash, e.Hash, entry.Actor.Name, entry.Target?.Name, entry.Target?.Deleted ?? false);
    }

    /// <summary>
    /// Lists events: <c>actor</c> (id or part of the name), <c>targetType</c>, <c>target</c> (an id, or the name of a user,
    /// department, application, role, permission, connector or rule), <c>type</c> (exact, or a prefix: <c>user.</c>),
    /// <c>from</c> (inclusive), <c>to</c> (exclusive), and <c>q</c>: free text over the type, the actor's name and the target's name.
    /// </summary>
    private static async Task<Results<Ok<Paged<AuditEventDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, [AsParameters] AuditFilter filter, AuditQueries queries, CancellationToken cancellationToken)
    {
        var errors = Validate(filter);
        var query = await queries.FindAsync(filter.With(list.Search), cancellationToken);
        return await Listing.PageAsync(query, list, Sort, async (events, ct) => (IReadOnlyList<AuditEventDto>)[.. (await queries.NameAsync(events, ct)).Select(ToDto)], cancellationToken, errors);
    }

    /// <summary>Recomputes the chain and names the first row that no longer matches (after tampering).</summary>
    private static async Task<Ok<AuditVerificationDto>> VerifyAsync(AuditTrail trail, CancellationToken cancellationToken)
    {
        var result = await trail.VerifyAsync(cancellationToken);
        return TypedResults.Ok(new AuditVerificationDto(result.Intact, result.Checked, result.FirstBrokenSequence, result.Problem));
    }

    /// <summary>The filtered events (<c>q</c> as in the list), oldest first, as <c>format=csv</c> (default) or <c>json</c>, streamed in batches.</summary>
    private static async Task<Results<AuditCsv, Ok<IAsyncEnumerable<AuditEventDto>>, ValidationProblem>> ExportAsync(
        [AsParameters] AuditFilter filter, AuditQueries queries, HttpContext http, string? format = "csv", string? q = null)
    {
        var errors = Validate(filter);
        if (format is not ("csv" or "json"))
        {
            errors["format"] = [$"Unknown format \"{format}\"; use csv or json."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var query = await queries.FindAsync(filter.With(string.IsNullOrWhiteSpace(q) ? null : q.Trim()), http.RequestAborted);
        var name = $"identityhub-audit-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.{format}";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        var events = Batches(query, queries, http.RequestAborted);
        if (format == "json")
        {
            return TypedResults.Ok(events);
        }

        return new AuditCsv(events);
    }

    private static Dictionary<string, string[]> Validate(AuditFilter filter)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (filter.From is { } from && filter.To is { } to && to <= from)
        {
            errors["to"] = ["to must be after from."];
        }

        return errors;
    }

    /// <summary>The query's events in sequence order, fetched a batch at a time so an export never holds the whole trail.</summary>
    private static async IAsyncEnumerable<AuditEventDto> Batches(IQueryable<AuditEvent> query, AuditQueries queries, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = long.MinValue;
        while (true)
        {
            var batch = await query.Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(ExportBatch).ToListAsync(cancellationToken);
            foreach (var entry in await queries.NameAsync(batch, cancellationToken))
            {
                yield return ToDto(entry);
            }

            if (batch.Count < ExportBatch)
            {
                yield break;
            }

            after = batch[^1].Sequence;
        }
    }
}

/// <summary>Audit events written as CSV (CsvHelper) straight to the response, asynchronously, one row per event.</summary>
public sealed class AuditCsv(IAsyncEnumerable<AuditEventDto> events) : IResult
{
    /// <summary>
    /// The trail records what people typed (a failed sign-in keeps the user name): a cell starting with
    /// = + - @ TAB or CR is a formula to a spreadsheet (OWASP "CSV Injection"), so it gets a leading '.
    /// </summary>
    private static readonly CsvConfiguration Neutralised = new(CultureInfo.InvariantCulture)
    {
        InjectionOptions = InjectionOptions.Escape,
        InjectionCharacters = ['=', '+', '-', '@', '\t', '\r'],
        InjectionEscapeCharacter = '\'',
    };

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.ContentType = "text/csv; charset=utf-8";
        await using var writer = new StreamWriter(httpContext.Response.Body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await using var csv = new CsvWriter(writer, Neutralised);
        csv.WriteHeader<AuditEventDto>();
        await csv.NextRecordAsync();
        await foreach (var e in events.WithCancellation(httpContext.RequestAborted))
        {
            csv.WriteRecord(e);
            await csv.NextRecordAsync();
        }

        await csv.FlushAsync();
    }
}

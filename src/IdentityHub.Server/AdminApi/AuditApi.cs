using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.AdminApi;

public sealed record AuditEventDto(
    long Sequence, DateTimeOffset OccurredAt, string Type, string ActorId, string ActorName, string? TargetType, string? TargetId,
    string? Before, string? After, string? IpAddress, string? UserAgent, string? CorrelationId, string PreviousHash, string Hash);

public sealed record AuditVerificationDto(bool Intact, long Checked, long? FirstBrokenSequence, string? Problem);

/// <summary>The filters shared by the audit list and its export.</summary>
public sealed record AuditFilter(string? Actor, string? TargetType, string? Target, string? Type, DateTimeOffset? From, DateTimeOffset? To);

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

    private static AuditEventDto ToDto(AuditEvent e) => new(
        e.Sequence, e.OccurredAt, e.Type, e.ActorId, e.ActorName, e.TargetType, e.TargetId, e.Before, e.After,
        e.IpAddress, e.UserAgent, e.CorrelationId, e.PreviousHash, e.Hash);

    /// <summary>
    /// Lists events: <c>actor</c> (id or name), <c>targetType</c>, <c>target</c> (id), <c>type</c> (exact, or a prefix
    /// ending in a dot such as <c>user.</c>), <c>from</c> (inclusive) and <c>to</c> (exclusive).
    /// </summary>
    private static async Task<Results<Ok<Paged<AuditEventDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, [AsParameters] AuditFilter filter, IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = Filter(db, filter, errors);
        return await Listing.PageAsync(query, list, Sort, ToDto, cancellationToken, errors);
    }

    /// <summary>Recomputes the chain and names the first row that no longer matches (after tampering).</summary>
    private static async Task<Ok<AuditVerificationDto>> VerifyAsync(AuditTrail trail, CancellationToken cancellationToken)
    {
        var result = await trail.VerifyAsync(cancellationToken);
        return TypedResults.Ok(new AuditVerificationDto(result.Intact, result.Checked, result.FirstBrokenSequence, result.Problem));
    }

    /// <summary>The filtered events, oldest first, as <c>format=csv</c> (default) or <c>json</c>, streamed in batches.</summary>
    private static Results<AuditCsv, Ok<IAsyncEnumerable<AuditEventDto>>, ValidationProblem> ExportAsync(
        [AsParameters] AuditFilter filter, IdentityHubDbContext db, HttpContext http, string? format = "csv")
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var query = Filter(db, filter, errors);
        if (format is not ("csv" or "json"))
        {
            errors["format"] = [$"Unknown format \"{format}\"; use csv or json."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var name = $"identityhub-audit-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss}.{format}";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}\"";
        var events = Batches(query, http.RequestAborted);
        if (format == "json")
        {
            return TypedResults.Ok(events);
        }

        return new AuditCsv(events);
    }

    private static IQueryable<AuditEvent> Filter(IdentityHubDbContext db, AuditFilter filter, Dictionary<string, string[]> errors)
    {
        var query = db.AuditEvents.AsNoTracking();
        if (filter.Actor is { Length: > 0 } actor)
        {
            query = query.Where(e => e.ActorId == actor || e.ActorName == actor);
        }

        if (filter.TargetType is { Length: > 0 } targetType)
        {
            query = query.Where(e => e.TargetType == targetType);
        }

        if (filter.Target is { Length: > 0 } target)
        {
            query = query.Where(e => e.TargetId == target);
        }

        if (filter.Type is { Length: > 0 } type)
        {
            query = type.EndsWith('.') ? query.Where(e => e.Type.StartsWith(type)) : query.Where(e => e.Type == type);
        }

        if (filter.From is { } from)
        {
            query = query.Where(e => e.OccurredAt >= from);
        }

        if (filter.To is { } to)
        {
            if (filter.From is { } start && to <= start)
            {
                errors["to"] = ["to must be after from."];
            }

            query = query.Where(e => e.OccurredAt < to);
        }

        return query;
    }

    /// <summary>The query's events in sequence order, fetched a batch at a time so an export never holds the whole trail.</summary>
    private static async IAsyncEnumerable<AuditEventDto> Batches(IQueryable<AuditEvent> query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = long.MinValue;
        while (true)
        {
            var batch = await query.Where(e => e.Sequence > after).OrderBy(e => e.Sequence).Take(ExportBatch).ToListAsync(cancellationToken);
            foreach (var e in batch)
            {
                yield return ToDto(e);
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

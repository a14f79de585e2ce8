using System.Net.Http.Headers;
using IdentityHub.Core;
using Microsoft.AspNetCore.Http.HttpResults;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// The Core's refusals as RFC 9457 problem details, once for the whole admin API: an endpoint filter turns a
/// <see cref="RuleViolation"/> into 400/403/404/409/412 with the field-level <c>errors</c> the Core named.
/// </summary>
public static class Problems
{
    public static async ValueTask<object?> MapRuleViolations(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            return await next(context);
        }
        catch (RuleViolation violation)
        {
            return Of(violation);
        }
    }

    public static IResult Of(RuleViolation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var errors = violation.Errors.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        var extensions = new Dictionary<string, object?>(StringComparer.Ordinal);
        // The stable code lets a client tell refusals apart without parsing the English title.
        if (violation.Code is { } coded)
        {
            extensions["code"] = coded.Code;
        }

        // What the refusal names (the roles still attached...) as members a client reads without parsing the title.
        foreach (var (name, value) in violation.Details)
        {
            extensions[name] = value;
        }

        if (violation.Kind == ViolationKind.Invalid)
        {
            return TypedResults.ValidationProblem(errors, title: violation.Title, detail: DetailOf(violation), extensions: extensions);
        }

        if (errors.Count > 0)
        {
            extensions["errors"] = errors;
        }

        return TypedResults.Problem(
            statusCode: violation.Kind switch
            {
                ViolationKind.NotFound => StatusCodes.Status404NotFound,
                ViolationKind.Forbidden => StatusCodes.Status403Forbidden,
                ViolationKind.Conflict => StatusCodes.Status409Conflict,
                ViolationKind.Stale => StatusCodes.Status412PreconditionFailed,
                _ => StatusCodes.Status400BadRequest,
            },
            title: violation.Title,
            detail: DetailOf(violation),
            extensions: extensions);
    }

    /// <summary>A 400 naming one field, for what the API checks itself (filters, query parameters).</summary>
    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    private static string? DetailOf(RuleViolation violation) =>
        violation.Errors.Count == 0 ? violation.Message : string.Join(" ", violation.Errors.SelectMany(e => e.Value));
}

/// <summary>
/// RFC 9110 §13.1.1 If-Match, bound as an endpoint parameter: null when absent or <c>*</c> (no check), else the
/// revision the caller read. A tag that is weak, malformed or one of several matches no revision, so the
/// Core answers 412 (a strong comparison of a tag the API never handed out cannot succeed).
/// </summary>
public sealed record IfMatch(long? Revision)
{
    private const long MatchesNothing = long.MinValue;

    public static ValueTask<IfMatch?> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var header = context.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return ValueTask.FromResult<IfMatch?>(new IfMatch(Revision: null));
        }

        var single = EntityTagHeaderValue.TryParse(header, out var tag) && !tag.IsWeak;
        return ValueTask.FromResult<IfMatch?>(new IfMatch(
            single && Core.Revision.TryParseETag(tag!.Tag, out var revision) ? revision : MatchesNothing));
    }
}

/// <summary>Sets the ETag of what a response returns, so the caller can send it back in If-Match.</summary>
public static class ETags
{
    public static void Set(HttpContext http, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.ETag = Core.Revision.ETag(updatedAt);
    }
}

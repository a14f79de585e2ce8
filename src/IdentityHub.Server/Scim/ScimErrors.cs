using System.Text.Json.Nodes;
using IdentityHub.Core;

namespace IdentityHub.Server.Scim;

/// <summary>A SCIM request refused before it reaches the Core (bad syntax, unknown attribute, stale ETag, too large).</summary>
public sealed class ScimException(int status, string? scimType, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string? ScimType { get; } = scimType;

    public static ScimException InvalidSyntax(string detail) => new(StatusCodes.Status400BadRequest, "invalidSyntax", detail);

    public static ScimException InvalidFilter(string detail) => new(StatusCodes.Status400BadRequest, "invalidFilter", detail);

    public static ScimException InvalidValue(string detail) => new(StatusCodes.Status400BadRequest, "invalidValue", detail);

    public static ScimException InvalidPath(string detail) => new(StatusCodes.Status400BadRequest, "invalidPath", detail);

    public static ScimException NoTarget(string detail) => new(StatusCodes.Status400BadRequest, "noTarget", detail);

    public static ScimException Mutability(string detail) => new(StatusCodes.Status400BadRequest, "mutability", detail);

    public static ScimException Uniqueness(string detail) => new(StatusCodes.Status409Conflict, "uniqueness", detail);

    public static ScimException NotFound(string resource, string id) => new(StatusCodes.Status404NotFound, null, $"No {resource} with id '{id}'.");

    public static ScimException PreconditionFailed() =>
        new(StatusCodes.Status412PreconditionFailed, null, "The resource changed since you read it (If-Match does not match its ETag); read it again.");

    public static ScimException TooLarge(long limit) =>
        new(StatusCodes.Status413PayloadTooLarge, null, $"The request body is larger than {limit} bytes.");
}

/// <summary>
/// RFC 7644 §3.12: every error is a SCIM Error message with the HTTP status as a string and, for 400 and 409, a
/// <c>scimType</c>; the Core's refusals map onto it once here.
/// </summary>
public static class ScimErrors
{
    public const string ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

    public static IResult Of(ScimException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Result(error.Status, error.ScimType, error.Message);
    }

    public static IResult Of(RuleViolation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var (status, scimType) = StatusOf(violation);
        return Result(status, scimType, DetailOf(violation));
    }

    public static (int Status, string? ScimType) StatusOf(RuleViolation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        var codes = violation.Codes.Values.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
        return violation.Kind switch
        {
            ViolationKind.NotFound => (StatusCodes.Status404NotFound, null),
            ViolationKind.Forbidden => (StatusCodes.Status403Forbidden, null),
            ViolationKind.Stale => (StatusCodes.Status412PreconditionFailed, null),
            // An attribute another system owns is a mutability error (RFC 7644 §3.12); everything else in conflict is uniqueness.
            ViolationKind.Conflict when codes.Contains("inbound.owned") || codes.Contains("inbound.otherSource") => (StatusCodes.Status409Conflict, "mutability"),
            // A parent that would make the tree go round is a bad value in this request, not a clash with another resource.
            ViolationKind.Conflict when codes.Contains("department.cycle") => (StatusCodes.Status400BadRequest, "invalidValue"),
            ViolationKind.Conflict => (StatusCodes.Status409Conflict, "uniqueness"),
            _ => (StatusCodes.Status400BadRequest, "invalidValue"),
        };
    }

    /// <summary>The refusal's text, naming each field the Core named (<c>department: No department is known as ...</c>).</summary>
    public static string DetailOf(RuleViolation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        return violation.Errors.Count == 0
            ? violation.Message
            : string.Join(" ", violation.Errors.SelectMany(e => e.Value.Select(message => $"{e.Key}: {message}")));
    }

    public static IResult Result(int status, string? scimType, string detail)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ErrorSchema),
            ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (scimType is not null)
        {
            body["scimType"] = scimType;
        }

        body["detail"] = detail;
        return new ScimJsonResult(body, status);
    }
}

/// <summary>A SCIM JSON body with <c>application/scim+json</c> (RFC 7644 §3.1), its status, and optionally an ETag and a Location.</summary>
public sealed class ScimJsonResult(JsonNode? body, int status = StatusCodes.Status200OK, string? etag = null, string? location = null) : IResult
{
    public const string MediaType = "application/scim+json";

    public JsonNode? Body => body;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = status;
        if (etag is not null)
        {
            response.Headers.ETag = etag;
        }

        if (location is not null)
        {
            response.Headers.Location = location;
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer realm=\"scim\"";
        }

        if (body is null)
        {
            return;
        }

        response.ContentType = MediaType + "; charset=utf-8";
        await response.WriteAsync(body.ToJsonString(), httpContext.RequestAborted);
    }
}

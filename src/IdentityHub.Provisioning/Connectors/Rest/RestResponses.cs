using System.Globalization;
using System.Net.Http.Headers;
using IdentityHub.Provisioning.Connectors.Scim;

namespace IdentityHub.Provisioning.Connectors.Rest;

public enum RestVerdictKind
{
    Success,
    Retry,
    Stale,
    NotFound,
    Permanent,
}

/// <summary>What one vendor answer means: the verdict, the code it was read from, the vendor's message and id.</summary>
public sealed record RestVerdict(RestVerdictKind Kind, int Status, string? Code, string? Message, string? VendorId = null, TimeSpan? RetryAfter = null)
{
    /// <summary>The answer's body as received (the list operation reads its items from it).</summary>
    public string? Body { get; init; }

    /// <summary>"upsertUser PUT /employees/E1: HTTP 200, code 40301: IP not allowed" — what the history and dead letters show.</summary>
    public string Describe(RestRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var code = Code is null || Code == Status.ToString(CultureInfo.InvariantCulture) ? "" : $", code {Code}";
        var message = string.IsNullOrWhiteSpace(Message) ? "" : $": {Message}";
        return $"{request.Operation} {request.Method} {request.Url.AbsolutePath}: HTTP {Status}{code}{message}";
    }

    /// <summary>The outcome the dispatcher records, for a verdict that ends the delivery.</summary>
    public DeliveryOutcome Outcome(RestRequest request) => Kind switch
    {
        RestVerdictKind.Success => new DeliveryOutcome.Delivered(VendorId),
        RestVerdictKind.Retry => new DeliveryOutcome.Retry(Describe(request), Status, RetryAfter),
        RestVerdictKind.Stale => new DeliveryOutcome.Stale(Describe(request), Status),
        _ => new DeliveryOutcome.Permanent(Describe(request), Status),
    };
}

/// <summary>Reads a vendor's answer through the connector's response mapping.</summary>
public static class RestResponses
{
    private const int MaxMessage = 500;

    /// <summary>
    /// HTTP 408, 429 and 5xx are retried whatever the mapping says (RFC 9110 §15.5.9, RFC 6585 §4, §15.6), honouring
    /// Retry-After (RFC 9110 §10.2.3); a redirect is refused (not followed); otherwise the code — the status, or the
    /// business code at <c>codePath</c> of a JSON body — is looked up in the mapping's lists, and an unknown code is a
    /// permanent refusal with the vendor's message. A 2xx without a body is a success.
    /// </summary>
    public static RestVerdict Classify(RestResponseMapping mapping, int status, string? body, RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var json = RestJsonPath.Parse(body);
        var message = Truncate(RestJsonPath.Text(RestJsonPath.Select(json, mapping.MessagePath)) ?? (json is null ? body?.Trim() : null));
        if (status is 408 or 429 || status >= 500)
        {
            return new RestVerdict(RestVerdictKind.Retry, status, null, message, RetryAfter: ScimResponses.RetryAfter(retryAfter, now)) { Body = body };
        }

        if (status is >= 300 and < 400)
        {
            return new RestVerdict(RestVerdictKind.Permanent, status, null, "a redirect, not followed: set the URL to the final address");
        }

        var statusText = status.ToString(CultureInfo.InvariantCulture);
        var code = statusText;
        if (mapping.CodeSource == RestCodeSource.Body)
        {
            if (string.IsNullOrWhiteSpace(body) && status is >= 200 and < 300)
            {
                return new RestVerdict(RestVerdictKind.Success, status, null, null) { Body = body };
            }

            // A gateway's own error page has no business code: the status stands in for it.
            code = RestJsonPath.Text(RestJsonPath.Select(json, mapping.CodePath)) ?? statusText;
        }

        var kind = Matches(mapping.Success, code) && status is >= 200 and < 300 ? RestVerdictKind.Success
            : Matches(mapping.Stale, code) ? RestVerdictKind.Stale
            : Matches(mapping.NotFound, code) ? RestVerdictKind.NotFound
            : Matches(mapping.Retry, code) ? RestVerdictKind.Retry
            : RestVerdictKind.Permanent;
        var vendorId = kind == RestVerdictKind.Success ? RestJsonPath.Text(RestJsonPath.Select(json, mapping.VendorIdPath)) : null;
        return new RestVerdict(kind, status, code, kind == RestVerdictKind.Permanent && message is null ? "a code the response mapping does not know" : message, vendorId,
            kind == RestVerdictKind.Retry ? ScimResponses.RetryAfter(retryAfter, now) : null) { Body = body };
    }

    /// <summary>Exact codes, or patterns with <c>x</c> for any digit (<c>2xx</c>).</summary>
    public static bool Matches(IReadOnlyList<string> codes, string code)
    {
        ArgumentNullException.ThrowIfNull(codes);
        foreach (var pattern in codes)
        {
            if (string.Equals(pattern, code, StringComparison.Ordinal))
            {
                return true;
            }

            if (pattern.Length == code.Length && pattern.Contains('x', StringComparison.OrdinalIgnoreCase)
                && pattern.Zip(code).All(p => p.First is 'x' or 'X' ? char.IsAsciiDigit(p.Second) : p.First == p.Second))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Truncate(string? text) => text is null ? null : text.Length > MaxMessage ? text[..MaxMessage] + "…" : text;
}

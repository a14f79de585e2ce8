using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>A SCIM call that did not succeed, carried as the delivery outcome it maps to.</summary>
public sealed class ScimCallException(DeliveryOutcome outcome) : ConnectorCallException(outcome);

/// <summary>Maps SCIM HTTP answers and transport failures to <see cref="DeliveryOutcome"/>.</summary>
public static class ScimResponses
{
    /// <summary>
    /// 429, 408 and 5xx are transient (RFC 7644 §3.12 lists 500/503 as service-side), honouring Retry-After
    /// (RFC 9110 §10.2.3); 409 may clear once a concurrent change lands, so it retries too; any other 4xx
    /// is the request's fault and retrying the same state cannot fix it.
    /// </summary>
    public static DeliveryOutcome Failure(HttpMethod method, string path, HttpStatusCode status, string? body, RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(method);
        var code = (int)status;
        var error = $"{method} {path}: {code} {Detail(body) ?? status.ToString()}";
        if (code is 408 or 409 or 429 || code >= 500)
        {
            return new DeliveryOutcome.Retry(error, code, RetryAfter(retryAfter, now));
        }

        return new DeliveryOutcome.Permanent(error, code);
    }

    /// <summary>A connection refused, a reset, a DNS failure or a timeout: the target may be back soon.</summary>
    public static DeliveryOutcome Unreachable(HttpMethod method, string path, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var reason = exception is OperationCanceledException or Polly.Timeout.TimeoutRejectedException ? "timed out" : exception.Message;
        return new DeliveryOutcome.Retry($"{method} {path}: {reason}");
    }

    /// <summary>RFC 9110 §10.2.3: either a number of seconds or an HTTP date.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>RFC 7644 §3.12: the error response's <c>detail</c> and <c>scimType</c>, or the start of a non-SCIM body.</summary>
    public static string? Detail(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                var detail = root.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                var scimType = root.TryGetProperty("scimType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (detail is not null || scimType is not null)
                {
                    return scimType is null ? detail : string.Create(CultureInfo.InvariantCulture, $"{scimType}: {detail}");
                }
            }
        }
        catch (JsonException)
        {
        }

        var text = body.Trim();
        return text.Length > 200 ? text[..200] + "…" : text;
    }
}

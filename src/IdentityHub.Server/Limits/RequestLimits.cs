using System.Globalization;
using System.Threading.RateLimiting;

namespace IdentityHub.Server.Limits;

/// <summary>What every limit needs: who is asking and how long they must wait.</summary>
public static class RequestLimits
{
    /// <summary>
    /// The client's address as the forwarded-headers middleware left it (the proxy's X-Forwarded-For only from configured
    /// proxies); IPv4 mapped into IPv6 counts as the IPv4 address.
    /// </summary>
    public static string ClientAddress(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var address = context.Connection.RemoteIpAddress;
        return address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }

    /// <summary>One fixed-window counter per key, created on first use and dropped again once idle.</summary>
    public static PartitionedRateLimiter<string> PerKey(RateLimitRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        return PartitionedRateLimiter.Create<string, string>(
            key => RateLimitPartition.GetFixedWindowLimiter(key, _ => rule.ToLimiterOptions()), StringComparer.Ordinal);
    }

    /// <summary>How long until the refused lease's window opens again (1 s when the limiter does not say).</summary>
    public static TimeSpan WaitOf(RateLimitLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
    }

    /// <summary>Whole seconds until the refused lease's window opens again, at least 1 (the Retry-After value).</summary>
    public static int RetryAfterSeconds(RateLimitLease lease) => RetryAfterSeconds(WaitOf(lease));

    public static int RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));

    /// <summary>RFC 6585 §4 / RFC 9110 §10.2.3: a 429 says when to come back.</summary>
    public static void SetRetryAfter(HttpResponse response, int seconds)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
    }
}

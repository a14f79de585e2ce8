namespace IdentityHub.Provisioning.Dispatch;

/// <summary>When a failed row is tried again.</summary>
public static class Backoff
{
    /// <summary>A Retry-After beyond this is read as a misconfigured target, not as "wait a month".</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    /// <summary>
    /// Exponential backoff with "full jitter" (a random wait up to min(cap, base × 2^(attempt-1))): retries of many
    /// rows spread out instead of hitting a recovering system together. A Retry-After from the target wins.
    /// </summary>
    public static TimeSpan Next(int attempt, TimeSpan retryAfter, TimeSpan backoffBase, TimeSpan cap, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (retryAfter > TimeSpan.Zero)
        {
            // RFC 9110 §10.2.3: the target said when it can take the request again.
            return retryAfter < MaxRetryAfter ? retryAfter : MaxRetryAfter;
        }

        var exponent = Math.Clamp(attempt - 1, 0, 30);
        var ceiling = Math.Min(cap.TotalMilliseconds, backoffBase.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(random.NextDouble() * ceiling);
    }
}

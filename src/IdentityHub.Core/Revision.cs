using System.Globalization;

namespace IdentityHub.Core;

/// <summary>
/// The version of an editable record, taken from its last-change instant; the API sends it as an entity tag
/// (RFC 9110 §8.8.3) and the console as a hidden field, and updates refuse a stale one. A record is stamped with
/// <see cref="Now"/> when created and with <see cref="After"/> on every update, so each update's revision is new.
/// </summary>
public static class Revision
{
    public static long Of(DateTimeOffset updatedAt) => updatedAt.UtcTicks;

    public static string ETag(DateTimeOffset updatedAt) => "\"" + Of(updatedAt).ToString("x", CultureInfo.InvariantCulture) + "\"";

    public static bool TryParseETag(string? etag, out long revision)
    {
        revision = 0;
        var text = etag?.Trim();
        if (text is null || text.Length < 3 || text[0] != '"' || text[^1] != '"')
        {
            return false;
        }

        return long.TryParse(text.AsSpan(1, text.Length - 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out revision);
    }

    /// <summary>Now, in whole milliseconds: every provider stores that exactly, so revisions survive a round trip.</summary>
    public static DateTimeOffset Now(TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var now = clock.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>
    /// The instant to stamp an update with: now, but always at least a millisecond after <paramref name="previous"/>, so two
    /// updates within one millisecond (or on a node whose clock lags) still get different revisions and a stale If-Match fails.
    /// </summary>
    public static DateTimeOffset After(DateTimeOffset previous, TimeProvider clock)
    {
        var now = Now(clock);
        var next = previous.AddTicks(-(previous.Ticks % TimeSpan.TicksPerMillisecond)).AddMilliseconds(1);
        return now > next ? now : next;
    }

    public static void Check(string what, DateTimeOffset updatedAt, long? expected)
    {
        if (expected is { } value && value != Of(updatedAt))
        {
            throw RuleViolation.Coded(ViolationKind.Stale, $"The {what} was changed by someone else since you read it; reload it and try again.", "stale");
        }
    }
}

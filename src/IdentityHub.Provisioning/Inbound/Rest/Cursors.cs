using System.Globalization;

namespace IdentityHub.Provisioning.Inbound.Rest;

/// <summary>A source's cursor values (timestamps, numbers or opaque text) and flags as its templates render them.</summary>
public static class Cursors
{
    /// <summary>
    /// The later of two cursor values: numerically when both are numbers, in time when both are timestamps, else by
    /// ordinal text (ISO 8601 in one format sorts right that way too); null never wins.
    /// </summary>
    public static string? Later(string? a, string? b)
    {
        if (a is null || b is null)
        {
            return a ?? b;
        }

        if (decimal.TryParse(a, NumberStyles.Number, CultureInfo.InvariantCulture, out var x) && decimal.TryParse(b, NumberStyles.Number, CultureInfo.InvariantCulture, out var y))
        {
            return y > x ? b : a;
        }

        if (DateTimeOffset.TryParse(a, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s)
            && DateTimeOffset.TryParse(b, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
        {
            return t > s ? b : a;
        }

        return string.CompareOrdinal(b, a) > 0 ? b : a;
    }

    /// <summary>A rendered flag: true/false, 1/0, yes/no, y/n (any case); null when it is none of these.</summary>
    public static bool? Flag(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" or "Y" or "ACTIVE" => true,
        "FALSE" or "0" or "NO" or "N" or "INACTIVE" => false,
        _ => null,
    };
}

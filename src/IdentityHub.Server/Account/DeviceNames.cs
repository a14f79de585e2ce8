namespace IdentityHub.Server.Account;

/// <summary>What a person recognises of a User-Agent: the browser and the system ("Chrome", "Windows"); null when unknown.</summary>
public static class DeviceNames
{
    // Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux", iPadOS may say "Macintosh".
    private static readonly (string Token, string Name)[] Browsers =
    [
        ("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"), ("Safari/", "Safari"),
    ];

    private static readonly (string Token, string Name)[] Systems =
    [
        ("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"), ("CrOS", "ChromeOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
        ("Macintosh", "macOS"), ("Linux", "Linux"),
    ];

    public static (string? Browser, string? System) Of(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return (null, null);
        }

        return (First(Browsers, userAgent), First(Systems, userAgent));
    }

    private static string? First((string Token, string Name)[] known, string userAgent) =>
        known.FirstOrDefault(k => userAgent.Contains(k.Token, StringComparison.Ordinal)).Name;
}

using IdentityHub.Server.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>
/// How signing keys live: which algorithm new keys use, how often they rotate, how long the next key is
/// published before it signs, and how long a retired key stays published. Read once from <c>Oidc:Keys</c>.
/// </summary>
public sealed record KeySettings(
    string Algorithm,
    TimeSpan RotationInterval,
    TimeSpan PublishAhead,
    TimeSpan? RetainAfterRetirement,
    TimeSpan CheckInterval)
{
    public static readonly IReadOnlyList<string> SupportedAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];

    /// <summary>
    /// How long a rotation by hand waits for every live node to publish the new key before it answers that the key will
    /// sign later (<c>Oidc:Keys:RotationWait</c>, default 10 s).
    /// </summary>
    public TimeSpan RotationWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The shortest time a new key is published before it signs: <see cref="PublishAhead"/>, and never less than two
    /// <see cref="CheckInterval"/>s, by when every node's periodic pass has loaded it even if it missed the change notice.
    /// </summary>
    public TimeSpan SafePublication => PublishAhead > CheckInterval * 2 ? PublishAhead : CheckInterval * 2;

    public static KeySettings Read(IConfiguration configuration)
    {
        var algorithm = configuration["Oidc:Keys:Algorithm"] is { Length: > 0 } configured ? configured : SecurityAlgorithms.RsaSha256;
        if (!SupportedAlgorithms.Contains(algorithm, StringComparer.Ordinal))
        {
            throw new StartupException($"Oidc:Keys:Algorithm '{algorithm}' is not supported: use RS256 or ES256.");
        }

        var settings = new KeySettings(
            algorithm,
            ReadDuration(configuration, "Oidc:Keys:RotationInterval", TimeSpan.FromDays(90)),
            ReadDuration(configuration, "Oidc:Keys:PublishAhead", TimeSpan.FromDays(2)),
            configuration["Oidc:Keys:RetainAfterRetirement"] is { Length: > 0 }
                ? ReadDuration(configuration, "Oidc:Keys:RetainAfterRetirement", TimeSpan.Zero)
                : null,
            ReadDuration(configuration, "Oidc:Keys:CheckInterval", TimeSpan.FromMinutes(1)))
        {
            RotationWait = ReadDuration(configuration, "Oidc:Keys:RotationWait", TimeSpan.FromSeconds(10)),
        };

        if (settings.RotationInterval <= TimeSpan.Zero || settings.CheckInterval <= TimeSpan.Zero)
        {
            throw new StartupException("Oidc:Keys:RotationInterval and Oidc:Keys:CheckInterval must be positive durations.");
        }

        // A next key published for the whole interval would never leave the "next" state in time.
        if (settings.PublishAhead < TimeSpan.Zero || settings.PublishAhead >= settings.RotationInterval)
        {
            throw new StartupException("Oidc:Keys:PublishAhead must be zero or more and shorter than Oidc:Keys:RotationInterval.");
        }

        if (settings.RotationWait < TimeSpan.Zero)
        {
            throw new StartupException("Oidc:Keys:RotationWait must be zero or more.");
        }

        if (settings.RetainAfterRetirement < TimeSpan.Zero)
        {
            throw new StartupException("Oidc:Keys:RetainAfterRetirement must be zero or more.");
        }

        return settings;
    }

    /// <summary>The algorithm a new key of this use gets: encryption keys are always RSA-OAEP.</summary>
    public string AlgorithmFor(string use) =>
        use == Data.Keys.KeyUses.Encryption ? SecurityAlgorithms.RsaOAEP : Algorithm;

    /// <summary>A duration setting (d.hh:mm:ss); a malformed one stops start-up naming the key.</summary>
    internal static TimeSpan ReadDuration(IConfiguration configuration, string key, TimeSpan defaultValue)
    {
        var text = configuration[key];
        if (string.IsNullOrEmpty(text))
        {
            return defaultValue;
        }

        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new StartupException($"{key} '{text}' is not a duration: write d.hh:mm:ss, for example 90.00:00:00.");
    }
}

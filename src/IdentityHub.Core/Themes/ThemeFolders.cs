using System.Text.RegularExpressions;

namespace IdentityHub.Core.Themes;

/// <summary>
/// The theme folders under one root (<c>themes/&lt;name&gt;/{login,account,email,admin}</c>), Keycloak style. The list is
/// read again after <see cref="RescanAfter"/>, so a theme copied in while the server runs is seen without a restart.
/// </summary>
public sealed partial class ThemeFolders(string root, TimeProvider clock)
{
    /// <summary>The theme every other one falls back to, file by file and key by key.</summary>
    public const string Default = "default";

    public static TimeSpan RescanAfter { get; } = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private IReadOnlyList<string> _names = [];
    private DateTimeOffset _scannedAt = DateTimeOffset.MinValue;

    /// <summary>The folder holding one sub-folder per theme.</summary>
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>The themes present now, by name (default first).</summary>
    public IReadOnlyList<string> Names
    {
        get
        {
            lock (_gate)
            {
                var now = clock.GetUtcNow();
                if (now - _scannedAt >= RescanAfter)
                {
                    _names = Scan();
                    _scannedAt = now;
                }

                return _names;
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid theme name with a folder under <see cref="Root"/> now.</summary>
    public bool Exists(string? name) => name is not null && IsValidName(name) && Names.Contains(name, StringComparer.Ordinal);

    /// <summary>1 to 64 lower-case letters, digits or '-': a folder name that cannot climb out of <see cref="Root"/>.</summary>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name);

    /// <summary>The folder of theme <paramref name="name"/> (which may not exist).</summary>
    public string FolderOf(string name) =>
        IsValidName(name) ? Path.Combine(Root, name) : throw new ArgumentException($"'{name}' is not a theme name.", nameof(name));

    private IReadOnlyList<string> Scan()
    {
        if (!System.IO.Directory.Exists(Root))
        {
            return [];
        }

        return [.. System.IO.Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>().Where(IsValidName)
            .OrderBy(n => n == Default ? 0 : 1).ThenBy(n => n, StringComparer.Ordinal)];
    }

    [GeneratedRegex("^[a-z0-9-]{1,64}$")]
    private static partial Regex NamePattern();
}

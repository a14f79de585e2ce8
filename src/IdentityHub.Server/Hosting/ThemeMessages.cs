using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Localization;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// The theme's texts, Keycloak style: <c>themes/&lt;name&gt;/{login,admin}/messages.&lt;culture&gt;.json</c>, flat
/// key → text. Looks the key up in the current UI culture, then English; a missing key shows itself.
/// </summary>
public sealed class ThemeMessages : IStringLocalizer
{
    public const string English = "en";
    public const string Chinese = "zh-CN";

    /// <summary>The cultures the theme ships messages for; the first is the default.</summary>
    public static IReadOnlyList<CultureInfo> Cultures { get; } = [new(English), new(Chinese)];

    /// <summary>The theme sections that carry messages.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["login", "admin"];

    private readonly FrozenDictionary<string, FrozenDictionary<string, string>> _byCulture;

    public ThemeMessages(string themeFolder)
    {
        _byCulture = Cultures.ToFrozenDictionary(c => c.Name, c => Load(themeFolder, c.Name), StringComparer.OrdinalIgnoreCase);
    }

    public LocalizedString this[string name]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(name);
            var text = Find(name);
            return new LocalizedString(name, text ?? name, resourceNotFound: text is null);
        }
    }

    public LocalizedString this[string name, params object[] arguments]
    {
        get
        {
            var format = this[name];
            return new LocalizedString(name, string.Format(CultureInfo.CurrentCulture, format.Value, arguments), format.ResourceNotFound);
        }
    }

    public IEnumerable<LocalizedString> GetAllStrings(bool includeParentCultures) =>
        Messages(CultureInfo.CurrentUICulture).Select(pair => new LocalizedString(pair.Key, pair.Value));

    /// <summary>Reads <c>messages.&lt;culture&gt;.json</c> of every section; a key defined twice keeps the later section's text.</summary>
    public static FrozenDictionary<string, string> Load(string themeFolder, string culture)
    {
        var messages = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in Sections)
        {
            var file = Path.Combine(themeFolder, section, $"messages.{culture}.json");
            if (!File.Exists(file))
            {
                continue;
            }

            var parsed = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file))
                ?? throw new StartupException($"Theme messages '{file}' are empty: expected a JSON object of key → text.");
            foreach (var (key, value) in parsed)
            {
                messages[key] = value;
            }
        }

        return messages.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private string? Find(string name)
    {
        for (var culture = CultureInfo.CurrentUICulture; !Equals(culture, CultureInfo.InvariantCulture); culture = culture.Parent)
        {
            if (_byCulture.TryGetValue(culture.Name, out var messages) && messages.TryGetValue(name, out var text))
            {
                return text;
            }
        }

        return _byCulture[English].GetValueOrDefault(name);
    }

    private FrozenDictionary<string, string> Messages(CultureInfo culture) =>
        _byCulture.GetValueOrDefault(culture.Name) ?? _byCulture[English];
}

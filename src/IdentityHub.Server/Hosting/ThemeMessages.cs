using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using IdentityHub.Core.Themes;
using Microsoft.Extensions.Localization;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// The theme's texts, Keycloak style: <c>themes/&lt;name&gt;/{login,account,email,admin}/messages.&lt;culture&gt;.json</c>,
/// flat key → text. The request's theme (<see cref="ThemeSelection"/>) overrides <c>default</c> key by key; a key is
/// looked up in the current UI culture, then English; a missing key shows itself. Files are read again when they change.
/// </summary>
public sealed class ThemeMessages : IStringLocalizer
{
    public const string English = "en";
    public const string Chinese = "zh-CN";

    /// <summary>The cultures the theme ships messages for; the first is the default.</summary>
    public static IReadOnlyList<CultureInfo> Cultures { get; } = [new(English), new(Chinese)];

    /// <summary>The theme sections that carry messages.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["login", "account", "email", "admin"];

    private readonly ThemeFolders _folders;
    private readonly string _global;
    private readonly IHttpContextAccessor? _http;
    private readonly TimeProvider _clock;
    private readonly ConcurrentDictionary<(string Theme, string Culture), Loaded> _loaded = new();

    public ThemeMessages(ThemeFolders folders, string globalTheme, IHttpContextAccessor? http, TimeProvider clock)
    {
        _folders = folders;
        _global = globalTheme;
        _http = http;
        _clock = clock;
    }

    /// <summary>The messages of one theme folder (over default when it is another one), outside any request.</summary>
    public ThemeMessages(string themeFolder)
        : this(new ThemeFolders(Path.GetDirectoryName(Path.GetFullPath(themeFolder))!, TimeProvider.System), Path.GetFileName(Path.GetFullPath(themeFolder)), null, TimeProvider.System)
    {
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
        Messages(Theme, CultureInfo.CurrentUICulture.Name).Select(pair => new LocalizedString(pair.Key, pair.Value));

    /// <summary>The messages <paramref name="theme"/> shows in <paramref name="culture"/>: default's, overridden key by key by the theme's.</summary>
    public FrozenDictionary<string, string> Messages(string theme, string culture)
    {
        var key = (_folders.Exists(theme) ? theme : ThemeFolders.Default, culture);
        var now = _clock.GetUtcNow();
        var loaded = _loaded.GetValueOrDefault(key);
        if (loaded is null || (now - loaded.CheckedAt >= ThemeFolders.RescanAfter && loaded.Stamp != Stamp(key.Item1, culture)))
        {
            loaded = new Loaded(Merge(key.Item1, culture), Stamp(key.Item1, culture), now);
            _loaded[key] = loaded;
        }
        else if (now - loaded.CheckedAt >= ThemeFolders.RescanAfter)
        {
            _loaded[key] = loaded with { CheckedAt = now };
        }

        return loaded.Messages;
    }

    /// <summary>
    /// Every text <paramref name="theme"/> shows in <paramref name="culture"/>, outside a request (a mail): the same rule as
    /// the indexer — the culture's text, else the English one; each of them the theme's, else default's.
    /// </summary>
    public IReadOnlyDictionary<string, string> Texts(string theme, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(culture);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in LookupOrder(culture).Reverse())
        {
            foreach (var (key, value) in Messages(theme, name))
            {
                texts[key] = value;
            }
        }

        return texts;
    }

    /// <summary>Reads <c>messages.&lt;culture&gt;.json</c> of every section of one folder; a key defined twice keeps the later section's text.</summary>
    public static FrozenDictionary<string, string> Load(string themeFolder, string culture)
    {
        var messages = new Dictionary<string, string>(StringComparer.Ordinal);
        LoadInto(messages, themeFolder, culture);
        return messages.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The theme of the current request.</summary>
    private string Theme => _http?.HttpContext?.RequestServices.GetService<ThemeSelection>()?.Of(_http.HttpContext) ?? _global;

    private FrozenDictionary<string, string> Merge(string theme, string culture)
    {
        var messages = new Dictionary<string, string>(StringComparer.Ordinal);
        LoadInto(messages, _folders.FolderOf(ThemeFolders.Default), culture);
        if (theme != ThemeFolders.Default)
        {
            LoadInto(messages, _folders.FolderOf(theme), culture);
        }

        return messages.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static void LoadInto(Dictionary<string, string> messages, string themeFolder, string culture)
    {
        foreach (var file in Files(themeFolder, culture).Where(File.Exists))
        {
            var parsed = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file))
                ?? throw new StartupException($"Theme messages '{file}' are empty: expected a JSON object of key → text.");
            foreach (var (key, value) in parsed)
            {
                messages[key] = value;
            }
        }
    }

    private static IEnumerable<string> Files(string themeFolder, string culture) =>
        Sections.Select(section => Path.Combine(themeFolder, section, $"messages.{culture}.json"));

    /// <summary>What changes when a message file of the theme or of default is added, edited or removed.</summary>
    private string Stamp(string theme, string culture) =>
        string.Join('|', new[] { ThemeFolders.Default, theme }.Distinct().SelectMany(t => Files(_folders.FolderOf(t), culture))
            .Select(f => File.Exists(f) ? $"{File.GetLastWriteTimeUtc(f).Ticks}:{new FileInfo(f).Length}" : "-"));

    private string? Find(string name)
    {
        var theme = Theme;
        foreach (var culture in LookupOrder(CultureInfo.CurrentUICulture))
        {
            if (Messages(theme, culture).TryGetValue(name, out var text))
            {
                return text;
            }
        }

        return null;
    }

    /// <summary>The cultures a text is looked up in, first to last: <paramref name="culture"/> and its parents that have messages, then English.</summary>
    private static IEnumerable<string> LookupOrder(CultureInfo culture)
    {
        var order = new List<string>();
        for (var c = culture; !Equals(c, CultureInfo.InvariantCulture); c = c.Parent)
        {
            if (Cultures.Any(known => known.Name == c.Name))
            {
                order.Add(c.Name);
            }
        }

        order.Add(English);
        return order.Distinct(StringComparer.Ordinal);
    }

    private sealed record Loaded(FrozenDictionary<string, string> Messages, string Stamp, DateTimeOffset CheckedAt);
}

using System.Text.Json;
using IdentityHub.Testing;

namespace IdentityHub.Browser.Tests;

/// <summary>The theme's texts in one language, read from its message files: the labels a person sees.</summary>
public sealed class ThemeTexts(Dictionary<string, string> texts)
{
    public string this[string key] => texts.TryGetValue(key, out var text) ? text : throw new KeyNotFoundException($"No theme text {key}.");

    /// <summary>The default theme's texts of <paramref name="section"/> (admin, login, email) in <paramref name="language"/>.</summary>
    public static ThemeTexts Of(string language, string section = "admin")
    {
        var file = Path.Combine(TestEnvironment.SolutionRoot, "themes", "default", section, $"messages.{language}.json");
        return new ThemeTexts(JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file))!);
    }
}

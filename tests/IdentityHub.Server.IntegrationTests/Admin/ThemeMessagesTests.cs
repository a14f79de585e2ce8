using System.Globalization;
using IdentityHub.Server.Hosting;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Admin;

public sealed class ThemeMessagesTests
{
    private static string ThemeFolder => Path.Combine(TestEnvironment.SolutionRoot, "themes", "default");

    [Fact]
    public void Load_EveryCulture_HasTheSameKeysAsEnglish()
    {
        var english = ThemeMessages.Load(ThemeFolder, ThemeMessages.English).Keys.ToHashSet(StringComparer.Ordinal);

        foreach (var culture in ThemeMessages.Cultures)
        {
            var keys = ThemeMessages.Load(ThemeFolder, culture.Name).Keys.ToHashSet(StringComparer.Ordinal);
            Assert.True(english.SetEquals(keys), $"messages.{culture.Name}.json differs from English: missing [{string.Join(", ", english.Except(keys))}], extra [{string.Join(", ", keys.Except(english))}]");
        }
    }

    [Fact]
    public void Indexer_ChineseCulture_ReturnsTheChineseTextAndFallsBackToTheKey()
    {
        var messages = new ThemeMessages(ThemeFolder);
        var previous = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo(ThemeMessages.Chinese);
            Assert.Equal("用户", messages["admin.nav.users"].Value);
            Assert.True(messages["no.such.key"].ResourceNotFound);
            CultureInfo.CurrentUICulture = new CultureInfo(ThemeMessages.English);
            Assert.Equal("Users", messages["admin.nav.users"].Value);
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }
}

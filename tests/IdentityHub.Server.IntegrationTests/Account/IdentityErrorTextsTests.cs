using System.Reflection;
using IdentityHub.Server.Account;
using IdentityHub.Server.Hosting;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.IntegrationTests.Account;

public sealed class IdentityErrorTextsTests
{
    private static string DefaultTheme => Path.Combine(TestEnvironment.SolutionRoot, "themes", "default");

    public static TheoryData<string> Codes() =>
        [.. typeof(IdentityErrorDescriber).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.IsVirtual && m.ReturnType == typeof(IdentityError)).Select(m => m.Name).Distinct().Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Codes))]
    public void Describer_EveryIdentityError_IsOverriddenAndHasTextsInEveryCulture(string code)
    {
        var method = typeof(ThemedIdentityErrorDescriber).GetMethods(BindingFlags.Public | BindingFlags.Instance).Single(m => m.Name == code);

        Assert.Equal(typeof(ThemedIdentityErrorDescriber), method.DeclaringType);
        foreach (var culture in ThemeMessages.Cultures)
        {
            Assert.True(ThemeMessages.Load(DefaultTheme, culture.Name).ContainsKey(ThemedIdentityErrorDescriber.KeyPrefix + code),
                $"identity.{code} is missing from themes/default messages.{culture.Name}.json");
        }
    }
}

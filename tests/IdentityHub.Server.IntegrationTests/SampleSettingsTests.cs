using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.Extensions.Configuration;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>appsettings.sample.json is the operator's reference: it must name every key the server reads.</summary>
public sealed partial class SampleSettingsTests
{
    private static readonly string ServerSource = Path.Combine(TestEnvironment.SolutionRoot, "src", "IdentityHub.Server");

    private static readonly IConfigurationRoot Sample = new ConfigurationBuilder()
        .AddJsonFile(Path.Combine(TestEnvironment.SolutionRoot, "appsettings.sample.json"), optional: false)
        .Build();

    [Fact]
    public void Sample_EveryKeyOfTheShippedAppSettings_IsDocumented()
    {
        var shipped = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(ServerSource, "appsettings.json"), optional: false)
            .AddJsonFile(Path.Combine(ServerSource, "appsettings.Development.json"), optional: false)
            .Build();

        var leaves = shipped.AsEnumerable().Where(pair => pair.Value is not null).Select(pair => pair.Key);

        Assert.All(leaves, key => Assert.True(Sample.GetSection(key).Exists(), $"appsettings.sample.json lacks '{key}'."));
    }

    [Fact]
    public void Sample_EveryKeyNamedInTheServerCode_IsDocumented()
    {
        var named = Directory.EnumerateFiles(ServerSource, "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(path => StringLiteral().Matches(File.ReadAllText(path)))
            .SelectMany(literal => SettingKey().Matches(literal.Value))
            .Select(match => match.Value)
            .Where(key => !key.StartsWith("Timestamp:", StringComparison.Ordinal))
            .Distinct()
            .ToList();

        Assert.Contains("Database:Provider", named);
        Assert.All(named, key => Assert.True(Sample.GetSection(key).Exists(), $"appsettings.sample.json lacks '{key}'."));
    }

    [GeneratedRegex("\"[^\"\\n]*\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\b[A-Z][A-Za-z]+(:[A-Z][A-Za-z]+)+\b")]
    private static partial Regex SettingKey();
}

using System.Diagnostics;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>How the server project builds for a deployment (README, "Production notes"), read from MSBuild's evaluation.</summary>
public sealed class DeploymentTests
{
    [Fact]
    public async Task Publish_ForARuntime_CompilesReadyToRunAndAPlainBuildDoesNot()
    {
        Assert.Equal("true", await ServerProjectPropertyAsync("PublishReadyToRun", "-p:RuntimeIdentifier=linux-x64"));
        Assert.Equal("", await ServerProjectPropertyAsync("PublishReadyToRun"));
    }

    /// <summary>A property of the server project as <c>dotnet msbuild -getProperty</c> evaluates it (nothing is built).</summary>
    private static async Task<string> ServerProjectPropertyAsync(string property, params string[] arguments)
    {
        var project = Path.Combine(TestEnvironment.SolutionRoot, "src", "IdentityHub.Server", "IdentityHub.Server.csproj");
        var info = new ProcessStartInfo(
            "dotnet", ["msbuild", project, $"-getProperty:{property}", $"-p:Configuration={TestEnvironment.Configuration}", "-nodeReuse:false", .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"dotnet msbuild -getProperty:{property} exited {process.ExitCode}: {await output}{await error}");
        return (await output).Trim();
    }
}

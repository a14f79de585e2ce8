using System.Diagnostics;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>Runs a command line tool (xmlsec1, openssl) and collects its exit code and output.</summary>
public static class ExternalTool
{
    public static async Task<(int Code, string Output)> RunAsync(string executable, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>A temporary folder for the files a tool reads and writes, removed afterwards.</summary>
public sealed class TempFiles : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("identityhub-saml-tool").FullName;

    public string Path(string name) => System.IO.Path.Combine(_dir, name);

    public string Write(string name, string content)
    {
        File.WriteAllText(Path(name), content);
        return Path(name);
    }

    public string Write(string name, byte[] content)
    {
        File.WriteAllBytes(Path(name), content);
        return Path(name);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}

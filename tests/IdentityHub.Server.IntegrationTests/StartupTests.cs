using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>The server binary started as a real process, the way an operator starts it.</summary>
public sealed partial class StartupTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = ServerProcess.StartPatience;
    private readonly string _workDirectory = Directory.CreateTempSubdirectory("identityhub-startup-").FullName;

    private string SqliteConnectionString => $"Data Source={Path.Combine(_workDirectory, "identityhub.db")}";

    [Fact]
    public async Task Start_FreshDatabaseWithoutPassword_PrintsAWorkingPasswordOnceAndKeepsKeysOnRestart()
    {
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:IdentityHub"] = SqliteConnectionString,
            ["Oidc:RequireHttps"] = "false",
        };
        string password;
        string firstKid;
        await using (var first = ServerProcess.Start(settings, _workDirectory))
        {
            await first.WaitUntilReadyAsync(StartTimeout);
            password = GeneratedPassword().Match(first.Output).Groups[1].Value;
            Assert.Equal(24, password.Length);
            Assert.DoesNotContain(password, LoggedLines(first.Output), StringComparison.Ordinal);
            firstKid = await SigningKeyIdAsync(first);
        }

        await using var second = ServerProcess.Start(settings, _workDirectory);
        await second.WaitUntilReadyAsync(StartTimeout);

        Assert.DoesNotContain("First administrator created", second.Output, StringComparison.Ordinal);
        Assert.Equal(firstKid, await SigningKeyIdAsync(second));
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = second.BaseAddress };
        var signIn = await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, password);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Contains("Administration console", await client.GetStringAsync("/admin"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnknownProvider_ExitsWithOneLineNamingTheSetting()
    {
        var output = await StartExpectingFailureAsync(new() { ["Database:Provider"] = "Oracle" });

        Assert.Contains("Database:Provider 'Oracle' is not supported: use Sqlite, PostgreSql or SqlServer.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnsupportedKeyAlgorithm_ExitsNamingTheSetting()
    {
        var output = await StartExpectingFailureAsync(new() { ["Oidc:Keys:Algorithm"] = "HS256" });

        Assert.Contains("Oidc:Keys:Algorithm 'HS256' is not supported: use RS256 or ES256.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PostgreSqlWithoutConnectionString_ExitsNamingTheConnectionString()
    {
        var output = await StartExpectingFailureAsync(new() { ["Database:Provider"] = "PostgreSql", ["ConnectionStrings:IdentityHub"] = "" });

        Assert.Contains("ConnectionStrings:IdentityHub is required when Database:Provider is PostgreSql", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_UnreachablePostgreSql_ExitsSayingItCannotConnect()
    {
        var nobodyListens = ServerProcess.FreePort();

        var output = await StartExpectingFailureAsync(new()
        {
            ["Database:Provider"] = "PostgreSql",
            ["ConnectionStrings:IdentityHub"] = $"Host=127.0.0.1;Port={nobodyListens};Database=identityhub;Username=identityhub;Password=secret-value;Timeout=5",
        });

        Assert.Contains("Cannot connect to the PostgreSql database", output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_ShortBootstrapClientSecret_ExitsNamingTheSetting()
    {
        var output = await StartExpectingFailureAsync(new()
        {
            ["ConnectionStrings:IdentityHub"] = SqliteConnectionString,
            ["Bootstrap:AdminClientSecret"] = "too-short",
        });

        Assert.Contains("Bootstrap:AdminClientSecret must have at least 43 characters", output, StringComparison.Ordinal);
        Assert.DoesNotContain("too-short", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_MigrationsOffOnEmptyDatabase_ExitsNamingTheSetting()
    {
        var output = await StartExpectingFailureAsync(new()
        {
            ["ConnectionStrings:IdentityHub"] = SqliteConnectionString,
            ["Database:ApplyMigrations"] = "false",
        });

        Assert.Contains("set Database:ApplyMigrations to true", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_JsonLogFormat_WritesCompactJsonEvents()
    {
        await using var server = ServerProcess.Start(
            new Dictionary<string, string>
            {
                ["ConnectionStrings:IdentityHub"] = SqliteConnectionString,
                ["Bootstrap:AdminPassword"] = "Json-Logging-Password-1",
                ["Log:Format"] = "json",
            },
            _workDirectory);
        await server.WaitUntilReadyAsync(StartTimeout);
        using (var client = new HttpClient { BaseAddress = server.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("account/login")).StatusCode);
        }

        var events = await WaitForEventsAsync(server, e => e.TryGetProperty("RequestPath", out var path) && path.GetString() == "/account/login");

        Assert.All(events, e => Assert.True(e.TryGetProperty("@t", out _) && e.TryGetProperty("@m", out _)));
        Assert.Contains(events, e => e.GetProperty("@m").GetString()!.Contains("Now listening on", StringComparison.Ordinal));
        var request = Assert.Single(events, e => e.TryGetProperty("RequestPath", out var path) && path.GetString() == "/account/login");
        Assert.Equal(200, request.GetProperty("StatusCode").GetInt32());
    }

    public void Dispose() => Directory.Delete(_workDirectory, recursive: true);

    /// <summary>Starts the server, expects it to exit with code 1, and checks the failure is one line with no stack trace.</summary>
    private async Task<string> StartExpectingFailureAsync(Dictionary<string, string> settings)
    {
        await using var server = ServerProcess.Start(settings, _workDirectory);
        var exitCode = await server.WaitForExitAsync(StartTimeout);

        Assert.Equal(1, exitCode);
        var output = server.Output;
        Assert.Single(output.Split('\n'), line => line.Contains("IdentityHub cannot start", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        return output;
    }

    /// <summary>
    /// The JSON events logged so far, once one matches (request logs are written as the response completes); throws naming
    /// the awaited event and the events seen when none matched within 30 s.
    /// </summary>
    private static async Task<List<JsonElement>> WaitForEventsAsync(
        ServerProcess server, Func<JsonElement, bool> awaited, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(awaited))] string? what = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var events = server.Output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            if (events.Any(awaited))
            {
                return events;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"Waited 30 s for a logged event matching {what}; logged: {string.Join('\n', events.TakeLast(20))}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<string> SigningKeyIdAsync(ServerProcess server)
    {
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        using var jwks = JsonDocument.Parse(await client.GetStringAsync(".well-known/jwks"));
        return jwks.RootElement.GetProperty("keys")[0].GetProperty("kid").GetString()!;
    }

    /// <summary>Log lines only: everything but the framed block the password is printed in.</summary>
    private static string LoggedLines(string output) =>
        string.Join('\n', output.Split('\n').Where(l => l.StartsWith('[') || l.StartsWith('{')));

    [GeneratedRegex(@"password:\s+(\S+)")]
    private static partial Regex GeneratedPassword();
}

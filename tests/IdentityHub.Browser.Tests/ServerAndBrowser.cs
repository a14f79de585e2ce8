using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// One real server process (SQLite file, known admin password) and one headless Debian Chromium,
/// shared by every test of a class.
/// </summary>
public class ServerAndBrowser : IAsyncLifetime
{
    public const string AdminPassword = "Browser-Admin-Password-1";

    private readonly string _workDirectory = Directory.CreateTempSubdirectory("identityhub-browser-").FullName;

    /// <summary>The server's working directory, removed with it.</summary>
    protected string WorkDirectory => _workDirectory;
    private ServerProcess? _server;

    /// <summary>The port the server will listen on, known before it starts (for settings naming its own address).</summary>
    protected int Port { get; } = ServerProcess.FreePort();
    private HeadlessChromium? _chromium;

    public IBrowser Browser => _chromium?.Browser ?? throw new InvalidOperationException("Chromium is not started.");

    public Uri BaseAddress => _server?.BaseAddress ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>The server's SQLite file, for tests that seed more than a browser could type (10,000 people).</summary>
    public string DatabaseFile => Path.Combine(_workDirectory, "identityhub.db");

    public virtual async Task InitializeAsync()
    {
        // Outside ./test.sh the tests are skipped when Chromium is missing; under it they fail with the reason.
        if (TestEnvironment.MissingReason(Prerequisite.Browser) is not null && !TestEnvironment.Strict)
        {
            return;
        }

        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:IdentityHub"] = $"Data Source={DatabaseFile}",
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Oidc:RequireHttps"] = "false",
        };
        Configure(settings);
        _server = ServerProcess.Start(settings, _workDirectory, Port);
        await _server.WaitUntilReadyAsync(ServerProcess.StartPatience);

        _chromium = await HeadlessChromium.LaunchAsync();
    }

    /// <summary>More settings for the server of a derived fixture (a themes folder of its own...).</summary>
    protected virtual void Configure(Dictionary<string, string> settings)
    {
    }

    /// <summary>A new browser context whose actions and navigations wait up to <see cref="HeadlessChromium.Patience"/>.</summary>
    public Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions options) =>
        (_chromium ?? throw new InvalidOperationException("Chromium is not started.")).NewContextAsync(options);

    public virtual async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_workDirectory, recursive: true);
    }
}

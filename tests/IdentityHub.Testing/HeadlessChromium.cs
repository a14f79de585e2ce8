using Microsoft.Playwright;

namespace IdentityHub.Testing;

/// <summary>Debian's Chromium driven by Playwright (which cannot download its own browser here).</summary>
public sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    /// <summary>
    /// How long any action, navigation or expectation may wait for its state (ms): generous, since the machine may be busy
    /// (a second copy of the suite running); a test waits for a state, never for a speed.
    /// </summary>
    public const float Patience = 120_000;

    public IBrowser Browser { get; }

    /// <summary>A new context whose actions and navigations wait up to <see cref="Patience"/>.</summary>
    public async Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions? options = null)
    {
        var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout(Patience);
        context.SetDefaultNavigationTimeout(Patience);
        return context;
    }

    /// <summary>A page in a context of its own (closed with it), waiting up to <see cref="Patience"/>.</summary>
    public async Task<IPage> NewPageAsync() => await (await NewContextAsync()).NewPageAsync();

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        var executable = TestEnvironment.Require(Prerequisite.Browser, TestEnvironment.Chromium);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            // The machine has no network beyond loopback; keep Chromium from reaching for it.
            Args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Assertions.SetDefaultExpectTimeout(Patience);
        return new HeadlessChromium(playwright, browser);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

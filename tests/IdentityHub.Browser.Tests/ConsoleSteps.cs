using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;
using Xunit;

namespace IdentityHub.Browser.Tests;

/// <summary>Steps several console flows share, taken through the console's own forms with the labels of the page's language.</summary>
public static class ConsoleSteps
{
    /// <summary>A full-page screenshot into the test artifacts, for a person to look at after the run.</summary>
    public static async Task ShotAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, $"{name}.png"), FullPage = true });
    }

    /// <summary>
    /// A full-page screenshot named <paramref name="name"/>, then the check that the page does not scroll sideways at its
    /// viewport's width (a phone's 390 px): <c>document.documentElement.scrollWidth &lt;= innerWidth</c>.
    /// </summary>
    public static async Task AssertNoSidewaysScrollAsync(IPage page, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        var widths = await page.EvaluateAsync<int[]>("[document.documentElement.scrollWidth, window.innerWidth]");
        await ShotAsync(page, name);
        Assert.True(widths[0] <= widths[1], $"{new Uri(page.Url).AbsolutePath} ({name}) is {widths[0]} px wide at a {widths[1]} px viewport.");
    }

    /// <summary>
    /// Calls the admin API with the console's cookie and antiforgery token of <paramref name="page"/> (signed in to the
    /// console), as the console's own scripts do: for arranging what a test does not look at in the browser.
    /// </summary>
    public static async Task<JsonElement> AdminApiAsync(IPage page, string method, string path, object? body)
    {
        ArgumentNullException.ThrowIfNull(page);
        await page.GotoAsync("/admin");
        var token = await page.Locator("input[name=__RequestVerificationToken]").First.GetAttributeAsync("value");
        var response = await page.APIRequest.FetchAsync(path, new()
        {
            Method = method,
            DataObject = body,
            Headers = new Dictionary<string, string> { ["RequestVerificationToken"] = token! },
        });
        var text = await response.TextAsync();
        Assert.True(response.Ok, $"{method} {path}: {response.Status} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// On an application's page: registers a confidential OIDC client (the form's defaults) for a <see cref="RelyingParty"/>
    /// on <paramref name="port"/>, and reads its client id and its secret, which the page shows this once.
    /// </summary>
    public static async Task<(string ClientId, string Secret)> RegisterRelyingPartyClientAsync(IPage page, ThemeTexts t, int port)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(t);
        var form = page.GetByTestId("oidc-edit");
        await form.GetByLabel(t["admin.oidc.redirectUris"], new() { Exact = true }).FillAsync(RelyingParty.RedirectUriOf(port).ToString());
        await form.GetByLabel(t["admin.oidc.postLogoutRedirectUris"], new() { Exact = true }).FillAsync(new Uri(RelyingParty.AddressOf(port), "signout-callback-oidc").ToString());
        Assert.Equal("confidential", await form.GetByLabel(t["admin.oidc.clientType"], new() { Exact = true }).InputValueAsync());
        // ASP.NET Core's OpenID Connect handler sends its secret in the form body (token and PAR requests), and a client
        // authenticates only the way it is registered.
        await form.GetByLabel(t["admin.oidc.authMethod"], new() { Exact = true }).SelectOptionAsync("client_secret_post");
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.oidc.register"], Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("oidc-secret-issued")).ToContainTextAsync(t["admin.oidc.secretHint"]);
        return (await page.GetByTestId("oidc-client-id").InnerTextAsync(), await page.GetByTestId("oidc-secret").InputValueAsync());
    }

    /// <summary>Creates an application on the applications page; ends on its page, whose address it returns.</summary>
    public static async Task<string> CreateApplicationAsync(IPage page, ThemeTexts t, string name)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(t);
        await page.GotoAsync("/admin/applications");
        await page.GetByLabel(t["admin.applications.name"], new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = t["admin.applications.create"] }).ClickAsync();
        await page.WaitForURLAsync("**/admin/applications/*");
        Assert.Equal(name, await page.GetByTestId("application-title").InnerTextAsync());
        return page.Url;
    }

    /// <summary>Adds a permission (with <paramref name="parameters"/> such as <c>amountLimit=5000</c>) on the application's page.</summary>
    public static async Task CreatePermissionAsync(IPage page, ThemeTexts t, string name, string parameters)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(t);
        var form = page.GetByTestId("create-permission");
        await form.GetByLabel(t["admin.permissions.name"], new() { Exact = true }).FillAsync(name);
        await form.GetByLabel(t["admin.permissions.parameters"], new() { Exact = true }).FillAsync(parameters);
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.permissions.create"] }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("permission-list")).ToContainTextAsync(name);
    }

    /// <summary>Adds a role bundling <paramref name="permission"/> on the application's page.</summary>
    public static async Task CreateRoleAsync(IPage page, ThemeTexts t, string key, string displayName, string permission)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(t);
        var form = page.GetByTestId("create-role");
        await form.GetByLabel(t["admin.roles.name"], new() { Exact = true }).FillAsync(key);
        await form.GetByLabel(t["admin.roles.displayName"], new() { Exact = true }).FillAsync(displayName);
        await form.GetByLabel(permission, new() { Exact = true }).CheckAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.roles.create"] }).ClickAsync();
        await Assertions.Expect(page.GetByTestId($"role-{key}")).ToContainTextAsync(displayName);
    }
}

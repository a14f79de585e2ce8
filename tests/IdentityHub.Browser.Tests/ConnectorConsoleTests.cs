using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 13 §6 and issue 17 §3/§6 through the real console in Debian's Chromium: a webhook connector created in the English
/// console delivers a grant, signed, to a Standard Webhooks receiver; a REST connector created in the Chinese console from the
/// expense preset delivers a grant to the expense vendor stand-in, and its preview shows the signed request; an edit from an
/// outdated page is refused with the explanation; a deletion asks first and then the connector is gone.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class ConnectorConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string Password = "Connector-Console-Password-1";

    /// <summary>Generous: the server shares two cores with other suites; the deadline is for "never arrives", not for speed.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [PrerequisiteFact]
    public async Task WebhookConnector_CreatedInTheEnglishConsole_TheReceiverGetsTheSignedDeliveryOfAGrant()
    {
        var t = ThemeTexts.Of("en");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        var (userUrl, userId) = await CreateEmployeeAsync(page, $"hook.user.{suffix}");
        await CreateApplicationAsync(page, t, $"Hooks {suffix}");
        await CreatePermissionAsync(page, t, "expense.approve", "amountLimit=5000");
        await CreateRoleAsync(page, t, $"approver-{suffix}", $"Approver {suffix}", "expense.approve");

        // From the application page: kind webhook, the receiver's URL; the signing secret is drawn by IdentityHub.
        await page.GetByTestId("connectors-section").GetByTestId("new-connector").ClickAsync();
        await ChooseAsync(page, t, t["admin.connectors.kind.webhook"], preset: null);
        var form = page.GetByTestId("connector-create");
        await Assertions.Expect(form.GetByTestId("secret-generated")).ToBeVisibleAsync();
        await form.GetByLabel(t["admin.connectors.name"], new() { Exact = true }).FillAsync($"hooks-{suffix}");
        await form.GetByLabel(t["admin.connectors.settingsJson"], new() { Exact = true }).FillAsync($$"""{"url": "{{receiver.HooksUrl}}"}""");
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.connectors.create"], Exact = true }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("connector-secret-issued")).ToContainTextAsync(t["admin.connectors.secretIssuedHint"]);
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync($"hooks-{suffix}");
        await Assertions.Expect(page.GetByTestId("no-sync")).ToBeVisibleAsync();
        var secret = await page.GetByTestId("connector-secret").InputValueAsync();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await ShotAsync(page, "connector-1-webhook-secret-shown-once-en");
        await receiver.SetSecretAsync(secret);
        await page.GetByTestId("open-connector").ClickAsync();
        await page.WaitForURLAsync(new Regex("/admin/provisioning/[0-9a-f-]{36}$"));
        await Assertions.Expect(page.GetByTestId("connector-settings")).ToContainTextAsync(receiver.HooksUrl.ToString());
        Assert.DoesNotContain(secret["whsec_".Length..], await page.ContentAsync(), StringComparison.Ordinal);

        await GrantAsync(page, t, userUrl, $"Approver {suffix} · approver-{suffix}");

        var state = await receiver.WaitForAsync(s => s.GetProperty("users").TryGetProperty(userId, out _), Patience);
        var delivered = state.GetProperty("users").GetProperty(userId);
        Assert.Equal("user.created", delivered.GetProperty("type").GetString());
        Assert.Equal([$"approver-{suffix}"], delivered.GetProperty("data").GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(0, state.GetProperty("badSignatures").GetInt32());
    }

    [PrerequisiteFact]
    public async Task RestConnector_FromTheExpensePresetInTheChineseConsole_TheConnectionTestsAndTheVendorAppliesTheGrantAndThePreviewShowsTheSignedRequest()
    {
        var t = ThemeTexts.Of("zh-CN");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var userName = $"rest.user.{suffix}";
        var roleKey = $"approver-{suffix}";
        await using var vendor = await ExpenseVendor.StartNewAsync();
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        var (userUrl, _) = await CreateEmployeeAsync(page, userName);
        await SwitchToChineseAsync(page);
        await CreateApplicationAsync(page, t, $"报销 {suffix}");
        await CreatePermissionAsync(page, t, "expense.approve", "amountLimit=5000");
        await CreateRoleAsync(page, t, roleKey, $"审批人 {suffix}", "expense.approve");

        // The expense preset fills the settings; the administrator points them at the vendor (its address and App Key).
        await page.GetByTestId("connectors-section").GetByTestId("new-connector").ClickAsync();
        await ChooseAsync(page, t, t["admin.connectors.kind.rest"], preset: "rest · 报销系统（合思风格开放 API）");
        var form = page.GetByTestId("connector-create");
        await Assertions.Expect(page.GetByTestId("connector-preset")).ToHaveTextAsync("报销系统（合思风格开放 API）");
        var settingsBox = form.GetByLabel(t["admin.connectors.settingsJson"], new() { Exact = true });
        var settings = JsonNode.Parse(await settingsBox.InputValueAsync())!;
        Assert.Equal("hmac", (string?)settings["auth"]!["type"]);
        settings["baseUrl"] = vendor.ApiBaseUrl.AbsoluteUri;
        settings["auth"]!["appKey"] = ExpenseVendor.AppKey;
        await settingsBox.FillAsync(settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        await form.GetByLabel(t["admin.connectors.name"], new() { Exact = true }).FillAsync($"报销-{suffix}");
        await form.GetByLabel(t["admin.connectors.secret"], new() { Exact = true }).FillAsync(ExpenseVendor.AppSecret);
        await form.GetByRole(AriaRole.Button, new() { Name = t["admin.connectors.create"], Exact = true }).ClickAsync();

        await page.WaitForURLAsync(new Regex("/admin/provisioning/[0-9a-f-]{36}$"));
        var connectorUrl = page.Url;
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync($"连接器“报销-{suffix}”已创建");
        await Assertions.Expect(page.GetByTestId("connector-settings")).ToContainTextAsync(ExpenseVendor.AppKey);
        Assert.DoesNotContain(ExpenseVendor.AppSecret, await page.ContentAsync(), StringComparison.Ordinal);

        // Test connection signs a list call with the stored App Secret; the vendor checks the signature.
        await page.GetByTestId("test-connection").ClickAsync();
        await Assertions.Expect(page.GetByTestId("test-result")).ToHaveAttributeAsync("data-outcome", "succeeded", new() { Timeout = 60_000 });

        await GrantAsync(page, t, userUrl, $"审批人 {suffix} · {roleKey}");
        var employee = await WaitForAsync(() => vendor.Employee($"E-{suffix}") is { Roles: var roles } applied && roles.Contains(roleKey) ? applied : null, "the vendor applying the grant");
        Assert.Equal(5000m, employee.AmountLimit);

        // The preview for that person: the signed request a delivery would send now.
        await page.GotoAsync(connectorUrl);
        var preview = page.GetByTestId("connector-preview");
        await ConsolePicker.PickAsync(preview.GetByLabel(t["admin.connectors.previewUser"], new() { Exact = true }), userName, $"RP User {suffix}");
        await preview.GetByRole(AriaRole.Button, new() { Name = t["admin.connectors.previewRun"], Exact = true }).ClickAsync();
        var request = page.GetByTestId("preview-request").Last;
        await Assertions.Expect(request.GetByTestId("preview-line")).ToContainTextAsync($"{ExpenseVendor.BasePath}/employees/{employee.Id}");
        await Assertions.Expect(request.Locator("tr[data-header='App-Key'] td.mono")).ToHaveTextAsync(ExpenseVendor.AppKey);
        await Assertions.Expect(request.Locator("tr[data-header='Signature'] td.mono")).ToHaveTextAsync(new Regex("^[0-9a-f]{64}$"));
        await Assertions.Expect(request.Locator("tr[data-header='Idempotency-Key']")).ToHaveCountAsync(1);
        using var body = JsonDocument.Parse(await request.GetByTestId("preview-body").InnerTextAsync());
        Assert.Equal($"E-{suffix}", body.RootElement.GetProperty("employeeNo").GetString());
        Assert.Equal([roleKey], body.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.DoesNotContain(ExpenseVendor.AppSecret, await page.ContentAsync(), StringComparison.Ordinal);
        await ShotAsync(page, "connector-2-rest-preview-zh-CN");
    }

    [PrerequisiteFact]
    public async Task Connector_EditedFromAnOutdatedPage_IsRefusedWithTheConflict_ThenDeletedAfterTheConfirmation()
    {
        var t = ThemeTexts.Of("en");
        var suffix = Guid.NewGuid().ToString("N")[..6];
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await CreateApplicationAsync(page, t, $"Outdated {suffix}");
        await page.GetByTestId("connectors-section").GetByTestId("new-connector").ClickAsync();
        await ChooseAsync(page, t, t["admin.connectors.kind.webhook"], preset: null);
        var create = page.GetByTestId("connector-create");
        await create.GetByLabel(t["admin.connectors.name"], new() { Exact = true }).FillAsync($"hooks-{suffix}");
        await create.GetByLabel(t["admin.connectors.settingsJson"], new() { Exact = true }).FillAsync("""{"url": "https://hooks.example.com/identityhub"}""");
        await create.GetByRole(AriaRole.Button, new() { Name = t["admin.connectors.create"], Exact = true }).ClickAsync();
        await page.GetByTestId("open-connector").ClickAsync();
        await page.WaitForURLAsync(new Regex("/admin/provisioning/[0-9a-f-]{36}$"));
        var connectorUrl = page.Url;

        // Someone else saves from a second tab after this one was opened.
        var other = await admin.Context.NewPageAsync();
        await other.GotoAsync(connectorUrl);
        await other.GetByTestId("connector-edit").GetByLabel(t["admin.connectors.name"], new() { Exact = true }).FillAsync($"theirs-{suffix}");
        await other.GetByTestId("connector-edit").GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
        await Assertions.Expect(other.GetByTestId("form-notice")).ToContainTextAsync($"theirs-{suffix}");

        var mine = page.GetByTestId("connector-edit");
        await mine.GetByLabel(t["admin.connectors.name"], new() { Exact = true }).FillAsync($"mine-{suffix}");
        await mine.GetByRole(AriaRole.Button, new() { Name = t["common.save"], Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-error")).ToContainTextAsync(t["admin.connectors.stale"]);
        await Assertions.Expect(page.GetByTestId("connector-edit").GetByLabel(t["admin.connectors.name"], new() { Exact = true })).ToHaveValueAsync($"mine-{suffix}");
        await Assertions.Expect(page.GetByTestId("connector-title")).ToContainTextAsync($"theirs-{suffix}");
        await ShotAsync(page, "connector-3-stale-edit-en");

        // Deleting asks first; only the confirmation deletes.
        await page.GotoAsync(connectorUrl);
        await page.GetByTestId("delete-connector").ClickAsync();
        var dialog = page.GetByTestId("confirm-delete-connector");
        await Assertions.Expect(dialog).ToContainTextAsync($"theirs-{suffix}");
        await Assertions.Expect(dialog.GetByTestId("confirm-consequences")).ToContainTextAsync(t["admin.confirm.connector.target"]);
        await dialog.GetByTestId("confirm-no").ClickAsync();
        await page.WaitForURLAsync(connectorUrl);
        await Assertions.Expect(page.GetByTestId("connector-title")).ToContainTextAsync($"theirs-{suffix}");
        await page.GetByTestId("delete-connector").ClickAsync();
        await page.GetByTestId("confirm-delete-connector").GetByTestId("confirm-yes").ClickAsync();

        await page.WaitForURLAsync("**/admin/provisioning");
        await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync($"Connector 'theirs-{suffix}' of Outdated {suffix} deleted");
        Assert.DoesNotContain($"theirs-{suffix}", await page.Locator("section[aria-labelledby='connectors-heading']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(404, (await page.GotoAsync(connectorUrl))!.Status);
    }

    /// <summary>The first step of the new-connector page: the application is already chosen; kind and preset fill the form.</summary>
    private static async Task ChooseAsync(IPage page, ThemeTexts t, string kind, string? preset)
    {
        await page.WaitForURLAsync("**/admin/provisioning/new?application=*");
        var choose = page.GetByTestId("connector-choose");
        await choose.GetByLabel(t["admin.connectors.kind"], new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = kind });
        if (preset is not null)
        {
            await choose.GetByLabel(t["admin.connectors.preset"], new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = preset });
        }

        await choose.GetByRole(AriaRole.Button, new() { Name = t["admin.connectors.fill"], Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("connector-create")).ToBeVisibleAsync();
    }

    private static async Task GrantAsync(IPage page, ThemeTexts t, string userUrl, string roleLabel)
    {
        await page.GotoAsync(userUrl);
        await page.GetByTestId("assign-role").ClickAsync();
        await page.WaitForURLAsync("**/admin/assignments/new?*");
        await page.GetByLabel(t["admin.assignments.role"], new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = roleLabel });
        await page.GetByLabel(t["admin.assignments.reason"], new() { Exact = true }).FillAsync("Connector console test");
        await page.GetByRole(AriaRole.Button, new() { Name = t["admin.assignments.grant"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(userUrl);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            if (clock.Elapsed > Patience)
            {
                throw new TimeoutException($"Waited {Patience.TotalSeconds:0} s for {what}.");
            }

            await Task.Delay(200);
        }
    }

    private static async Task SwitchToChineseAsync(IPage page)
    {
        var url = page.Url;
        await page.GetByTestId("language-zh-CN").ClickAsync();
        await page.WaitForURLAsync(url);
        Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
    }

    /// <summary>An employee (employee number <c>E-</c> and the name's last six characters), created in the English console; their page and id.</summary>
    private static async Task<(string Url, string Id)> CreateEmployeeAsync(IPage page, string userName)
    {
        await page.GotoAsync("/admin/users");
        await page.GetByTestId("new-user").ClickAsync();
        await page.GetByLabel("User name").FillAsync(userName);
        await page.GetByLabel("Display name").FillAsync($"RP User {userName[^6..]}");
        await page.GetByLabel("Employee number").FillAsync($"E-{userName[^6..]}");
        await page.GetByLabel("Email").FillAsync($"{userName}@example.com");
        await page.GetByLabel("Initial password").FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/admin/users/[^/]+$"));
        return (page.Url, page.Url[(page.Url.LastIndexOf('/') + 1)..]);
    }
}

using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 17 §3 through the real console in Debian's Chromium: an administrator registers an application's SAML
/// service provider by hand and edits its attribute mappings, in English and then in Chinese, and the admin API
/// reads back what was saved; then removes it through the console's one confirmation step.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class SamlConsoleTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private const string UriFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
    private const string BasicFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

    /// <summary>A generous deadline for every wait (the machine may be busy): a test waits for a state, never for a speed.</summary>
    private const float Deadline = 120_000;

    [PrerequisiteFact]
    public async Task AttributeMappingEditor_EnglishThenChinese_SavesTheMappingsTheApiReads()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var entityId = $"https://attendance-{suffix}.example.test/saml";
        var context = await fixture.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            Locale = "en-US",
        });
        try
        {
            var page = await context.NewPageAsync();
            await SignInAsync(page);
            await page.GotoAsync("/admin/applications");
            await page.GetByLabel("Application", new() { Exact = true }).FillAsync($"Attendance-{suffix}");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create application" }).ClickAsync();
            await page.WaitForURLAsync("**/admin/applications/*");
            var applicationUrl = page.Url;
            var applicationId = new Uri(applicationUrl).Segments[^1];

            // English: register by hand with one mapping, the mail attribute under its urn:oid name.
            var form = page.GetByTestId("saml-edit");
            await form.GetByLabel("Entity ID", new() { Exact = true }).FillAsync(entityId);
            await form.GetByLabel("URL 1", new() { Exact = true }).FillAsync($"https://attendance-{suffix}.example.test/saml/acs");
            await form.GetByTestId("saml-mapping-name-0").FillAsync("urn:oid:0.9.2342.19200300.100.1.3");
            await form.GetByTestId("saml-mapping-format-0").SelectOptionAsync(new SelectOptionValue { Label = "uri (a URI such as urn:oid:…)" });
            await form.GetByTestId("saml-mapping-source-0").SelectOptionAsync(new SelectOptionValue { Label = "Email" });
            await form.GetByRole(AriaRole.Button, new() { Name = "Save the SAML registration" }).ClickAsync();
            await page.WaitForURLAsync(applicationUrl);
            await Assertions.Expect(page.GetByTestId("form-notice")).ToContainTextAsync($"Saved: {entityId}");
            var mapping = page.GetByTestId("saml-mapping");
            await Assertions.Expect(mapping).ToHaveCountAsync(1);
            await Assertions.Expect(mapping).ToContainTextAsync("urn:oid:0.9.2342.19200300.100.1.3");
            await Assertions.Expect(mapping).ToContainTextAsync("Email");
            await ShotAsync(page, "saml-1-mapping-english");

            // Chinese: the same form, relabelled; the row becomes the department, and a new row sends the employee number.
            await page.GetByTestId("language-zh-CN").ClickAsync();
            await page.WaitForURLAsync(applicationUrl);
            Assert.Equal("zh-CN", await page.Locator("html").GetAttributeAsync("lang"));
            form = page.GetByTestId("saml-edit");
            await form.GetByLabel("SAML 属性名 1", new() { Exact = true }).FillAsync("department");
            await form.GetByTestId("saml-mapping-format-0").SelectOptionAsync(new SelectOptionValue { Label = "basic（简单名称，如 email）" });
            await form.GetByLabel("来源 1", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "部门" });
            // The add button posts the form back with one more row (no script needed); row 2 stays empty and is ignored.
            await form.GetByRole(AriaRole.Button, new() { Name = "添加一行属性" }).ClickAsync();
            await Assertions.Expect(form.GetByLabel("SAML 属性名 3", new() { Exact = true })).ToBeVisibleAsync();
            Assert.Equal("department", await form.GetByLabel("SAML 属性名 1", new() { Exact = true }).InputValueAsync());
            await form.GetByLabel("SAML 属性名 3", new() { Exact = true }).FillAsync("staffId");
            await form.GetByLabel("来源 3", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Label = "工号" });
            await form.GetByRole(AriaRole.Button, new() { Name = "保存 SAML 登记信息" }).ClickAsync();
            await page.WaitForURLAsync(applicationUrl);
            await Assertions.Expect(page.GetByTestId("form-notice")).ToBeVisibleAsync();
            await Assertions.Expect(mapping).ToHaveCountAsync(2);
            await Assertions.Expect(mapping.Nth(0)).ToContainTextAsync("department");
            await Assertions.Expect(mapping.Nth(0)).ToContainTextAsync("部门");
            await Assertions.Expect(mapping.Nth(1)).ToContainTextAsync("staffId");
            await Assertions.Expect(mapping.Nth(1)).ToContainTextAsync("工号");
            await ShotAsync(page, "saml-2-mapping-chinese");

            // What was saved, read back through the admin API with the console's session.
            var api = await page.APIRequest.GetAsync($"/api/admin/v1/applications/{applicationId}/saml");
            Assert.Equal(200, api.Status);
            using var json = JsonDocument.Parse(await api.TextAsync());
            Assert.Equal(entityId, json.RootElement.GetProperty("entityId").GetString());
            var saved = json.RootElement.GetProperty("attributeMappings").EnumerateArray()
                .Select(m => (m.GetProperty("name").GetString(), m.GetProperty("nameFormat").GetString(), m.GetProperty("source").GetString()))
                .ToList();
            Assert.Equal([("department", BasicFormat, "department"), ("staffId", BasicFormat, "employeeNumber")], saved);
            Assert.DoesNotContain(saved, m => m.Item2 == UriFormat);

            // Removal (still in Chinese): the one confirmation dialog says what it does; confirmed, the notice names the SP.
            await page.GetByTestId("delete-saml").ClickAsync();
            var dialog = page.GetByTestId("confirm-remove-saml");
            await Assertions.Expect(dialog).ToBeVisibleAsync(new() { Timeout = Deadline });
            Assert.True(await dialog.EvaluateAsync<bool>("d => d.matches(':modal')"), "With JavaScript the confirmation is a modal dialog.");
            await Assertions.Expect(dialog.GetByTestId("confirm-consequences")).ToContainTextAsync("其用户将无法再通过 SAML 登录此应用。");
            Assert.Equal(200, (await page.APIRequest.GetAsync($"/api/admin/v1/applications/{applicationId}/saml")).Status);
            await dialog.GetByRole(AriaRole.Button, new() { Name = "移除该服务提供方" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync($"已移除 SAML 服务提供方 {entityId}", new() { Timeout = Deadline });
            await Assertions.Expect(page.GetByTestId("saml-none")).ToBeVisibleAsync();
            Assert.Equal(404, (await page.APIRequest.GetAsync($"/api/admin/v1/applications/{applicationId}/saml")).Status);
            await ShotAsync(page, "saml-3-removed-chinese");
        }
        finally
        {
            await context.CloseAsync();
        }
    }

    private static async Task SignInAsync(IPage page)
    {
        await page.GotoAsync("/account/login");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(ServerAndBrowser.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync("**/admin");
    }
}

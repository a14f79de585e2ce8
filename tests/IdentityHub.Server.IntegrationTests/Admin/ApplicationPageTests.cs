using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Themes;
using IdentityHub.Data;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>The console's application page: the "edit application" form, posted the way a browser does (antiforgery token included).</summary>
public abstract class ApplicationPageTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    // A 1×1 transparent PNG.
    private const string PngIcon = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

    [PrerequisiteFact]
    public async Task EditForm_AccessLossUnticked_SwitchesRevocationOffAndAuditsIt()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync($"/admin/applications/{id}");
        Assert.Matches("<input type=\"checkbox\" name=\"Edit.RevokeTokensOnAccessLoss\" value=\"true\" checked=\"checked\"", page);

        var saved = await PostEditAsync(browser, page, id, new()
        {
            // What a browser sends for an unticked box: only the hidden fallback.
            ["Edit.RevokeTokensOnAccessLoss"] = "false",
        });

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.False((await db.Applications.AsNoTracking().SingleAsync(a => a.Id == id)).RevokeTokensOnAccessLoss);
        var audited = await db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id.ToString() && e.Type == "application.updated").SingleAsync();
        Assert.Contains("\"revokeTokensOnAccessLoss\":false", audited.After, StringComparison.Ordinal);
        Assert.DoesNotMatch("name=\"Edit.RevokeTokensOnAccessLoss\" value=\"true\" checked", await browser.GetStringAsync($"/admin/applications/{id}"));
    }

    [PrerequisiteFact]
    public async Task EditForm_StaleRevision_IsRefusedSayingSoAndChangesNothing()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync($"/admin/applications/{id}");

        var refused = await PostEditAsync(browser, page, id, new()
        {
            ["Edit.Revision"] = "1",
            ["Edit.RevokeTokensOnAccessLoss"] = "false",
        });

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Contains("changed by someone else since you read it; reload it and try again", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.True((await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Applications.AsNoTracking().SingleAsync(a => a.Id == id)).RevokeTokensOnAccessLoss);
    }

    [PrerequisiteFact]
    public async Task EditForm_NameLaunchUrlIconAndTheme_AreSavedAndShown()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync($"/admin/applications/{id}");
        var name = "Attendance " + Guid.NewGuid().ToString("N")[..8];

        var saved = await PostEditAsync(browser, page, id, new()
        {
            ["Edit.Name"] = name,
            ["Edit.Description"] = "Leave and overtime",
            ["Edit.LaunchUrl"] = "https://attendance.example.com/start",
            ["Edit.IconUrl"] = PngIcon,
            ["Edit.Theme"] = ThemeFolders.Default,
            ["Edit.RevokeTokensOnAccessLoss"] = "true",
        });

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var read = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}");
        Assert.Equal(name, read.GetProperty("name").GetString());
        Assert.Equal("https://attendance.example.com/start", read.GetProperty("launchUrl").GetString());
        Assert.Equal(PngIcon, read.GetProperty("iconUrl").GetString());
        Assert.Equal(ThemeFolders.Default, read.GetProperty("theme").GetString());
        var shown = await browser.GetStringAsync($"/admin/applications/{id}");
        Assert.Contains("value=\"https://attendance.example.com/start\"", shown, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"application-icon\"", shown, StringComparison.Ordinal);
    }

    /// <summary>One set of rules: the console's form and the admin API refuse the same bad input on the same field with the same words.</summary>
    [PrerequisiteTheory]
    [InlineData("launchUrl", "ftp://expense.example.com/start")]
    [InlineData("launchUrl", "expense.example.com")]
    [InlineData("iconUrl", "javascript:alert(1)")]
    [InlineData("iconUrl", "data:text/html;base64,PGgxPmhpPC9oMT4=")]
    [InlineData("theme", "Blue Theme")]
    public async Task EditForm_BadInput_IsRefusedLikeTheApiOnTheSameFieldWithTheSameMessage(string field, string value)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var name = (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}")).GetProperty("name").GetString()!;
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync($"/admin/applications/{id}");
        var before = await RevisionAsync(id);

        var api = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}", new Dictionary<string, string> { ["name"] = name, [field] = value });
        var console = await PostEditAsync(browser, page, id, new() { ["Edit." + char.ToUpperInvariant(field[0]) + field[1..]] = value });

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, console.StatusCode);
        var apiMessage = Assert.Single((await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty(field).EnumerateArray()).GetString();
        Assert.Equal(apiMessage, FieldError(await console.Content.ReadAsStringAsync(), "Edit." + char.ToUpperInvariant(field[0]) + field[1..]));
        Assert.Equal(before, await RevisionAsync(id));
    }

    [PrerequisiteFact]
    public async Task EditForm_NonWebLaunchUrlInTheChineseConsole_IsRefusedInChinese()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = factory.CreateBrowserLikeClient();
        browser.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync($"/admin/applications/{id}");
        Assert.Contains("编辑应用", page, StringComparison.Ordinal);

        var refused = await PostEditAsync(browser, page, id, new() { ["Edit.LaunchUrl"] = "ftp://expense.example.com/" });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("启动地址必须是完整的 https 地址", FieldError(await refused.Content.ReadAsStringAsync(), "Edit.LaunchUrl"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task PermissionForm_Refused_TheEditFormStillShowsTheStoredApplication()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInBrowserAsync();
        var page = await browser.GetStringAsync($"/admin/applications/{id}");

        var refused = await browser.PostAsync($"/admin/applications/{id}?handler=permission", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["NewPermission.Name"] = "Not a permission name!",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains($"name=\"Edit.Name\" value=\"{WebUtility.HtmlEncode(await NameAsync(id))}\"", html, StringComparison.Ordinal);
        Assert.Contains($"name=\"Edit.Revision\" value=\"{await RevisionAsync(id)}\"", html, StringComparison.Ordinal);
    }

    private async Task<HttpClient> SignedInBrowserAsync()
    {
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        return browser;
    }

    /// <summary>Posts the edit form as the page shows it (current revision and name), with <paramref name="changes"/> on top.</summary>
    private async Task<HttpResponseMessage> PostEditAsync(HttpClient browser, string page, Guid id, Dictionary<string, string> changes)
    {
        var fields = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["Edit.Revision"] = await RevisionAsync(id),
            ["Edit.Name"] = await NameAsync(id),
            ["Edit.RevokeTokensOnAccessLoss"] = "true",
        };
        foreach (var (key, value) in changes)
        {
            fields[key] = value;
        }

        return await browser.PostAsync($"/admin/applications/{id}?handler=edit", new FormUrlEncodedContent(fields));
    }

    /// <summary>The text the page shows next to the input named <paramref name="field"/>.</summary>
    private static string FieldError(string html, string field)
    {
        var match = Regex.Match(html, $"data-valmsg-for=\"{Regex.Escape(field)}\"[^>]*>([^<]*)</span>");
        Assert.True(match.Success, $"No field error for {field}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    private async Task<string> RevisionAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var application = await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Applications.AsNoTracking().SingleAsync(a => a.Id == id);
        return IdentityHub.Core.Revision.Of(application.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<string> NameAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Applications.AsNoTracking().Where(a => a.Id == id).Select(a => a.Name).SingleAsync();
    }
}

public sealed class SqliteApplicationPageTests(SqliteFactory factory) : ApplicationPageTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationPageTests(PostgreSqlFactory factory) : ApplicationPageTests<PostgreSqlFactory>(factory);

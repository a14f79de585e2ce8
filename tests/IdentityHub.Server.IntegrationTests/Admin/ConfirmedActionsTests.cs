using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 17 §5, one mechanism: every destructive or irreversible action of the role, permission, application and user pages
/// first shows the one confirmation step (<c>?confirm=...</c>, a dialog saying what it will do) and changes nothing; only
/// the confirmed post changes state, and the notice afterwards names the thing, in English and in Chinese.
/// </summary>
public abstract partial class ConfirmedActionsTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly ConsoleDriver _console = new(factory);

    /// <summary>An action ready to be confirmed: the page that asks, the names its texts carry, where the confirmed post lands, and whether it happened.</summary>
    private sealed record Scenario(string Page, object[] Names, string? Lands, Func<Task<bool>> Happened);

    /// <summary>The dialog's title, one of its consequences and the notice afterwards ({0}: the thing named; {1}: its application).</summary>
    private static readonly Dictionary<(string Action, string Language), (string Title, string Consequence, string Notice)> Texts = new()
    {
        [("delete-role", "en")] = ("Delete the role '{0}' ({1})?", "No one holds it: it has no assignments, current or ended.", "Role '{0}' deleted"),
        [("delete-role", "zh-CN")] = ("删除角色“{0}”（{1}）？", "没有人持有该角色：它没有任何分配（包括已结束的）。", "已删除角色“{0}”"),
        [("delete-permission", "en")] = ("Delete the permission '{0}' of {1}?", "No role bundles it, so no one holds it.", "Permission '{0}' deleted"),
        [("delete-permission", "zh-CN")] = ("删除 {1} 的权限“{0}”？", "没有角色包含该权限，因此无人持有。", "已删除权限“{0}”"),
        [("rotate-secret", "en")] = ("Rotate the secret of the OIDC client {0}?",
            "The current secret stops working at once: applications using the old secret will fail to sign in until they are configured with the new one.",
            "Secret of {0} rotated: the old secret no longer works"),
        [("rotate-secret", "zh-CN")] = ("轮换 OIDC 客户端 {0} 的密钥？", "当前密钥立即失效：仍使用旧密钥的应用将无法登录，直到换上新密钥。", "已轮换 {0} 的密钥：旧密钥不再有效"),
        [("delete-oidc", "en")] = ("Delete the OIDC client {0} of {1}?",
            "This cannot be undone: registering again gives a new client ID and secret, and the application must be reconfigured.", "OIDC client {0} deleted"),
        [("delete-oidc", "zh-CN")] = ("删除 {1} 的 OIDC 客户端 {0}？", "此操作无法撤销：重新登记会得到新的客户端 ID 和密钥，应用须重新配置。", "已删除 OIDC 客户端 {0}"),
        [("remove-saml", "en")] = ("Remove the SAML service provider {0} of {1}?", "Its users can no longer sign in to this application with SAML.", "SAML service provider {0} removed"),
        [("remove-saml", "zh-CN")] = ("移除 {1} 的 SAML 服务提供方 {0}？", "其用户将无法再通过 SAML 登录此应用。", "已移除 SAML 服务提供方 {0}"),
        [("end-sessions", "en")] = ("End every session of {0}?", "Their account stays active: they can sign in again at once with their password.", "Sessions of {0} ended and their tokens revoked"),
        [("end-sessions", "zh-CN")] = ("结束 {0} 的所有会话？", "其账号保持启用：可立即用密码重新登录。", "已结束 {0} 的会话并吊销其令牌"),
    };

    [PrerequisiteTheory]
    [InlineData("delete-role", "en")]
    [InlineData("delete-role", "zh-CN")]
    [InlineData("delete-permission", "en")]
    [InlineData("delete-permission", "zh-CN")]
    [InlineData("rotate-secret", "en")]
    [InlineData("rotate-secret", "zh-CN")]
    [InlineData("delete-oidc", "en")]
    [InlineData("delete-oidc", "zh-CN")]
    [InlineData("remove-saml", "en")]
    [InlineData("remove-saml", "zh-CN")]
    [InlineData("end-sessions", "en")]
    [InlineData("end-sessions", "zh-CN")]
    public async Task DestructiveAction_ShowsTheConfirmationFirst_OnlyTheConfirmedPostDoesItAndTheNoticeNamesIt(string action, string language)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var scenario = await ArrangeAsync(action, admin);
        var (title, consequence, notice) = Texts[(action, language)];
        var console = await _console.AdminAsync(language);

        var shown = await console.GetStringAsync(scenario.Page);
        var dialog = ConsoleDriver.Dialog(shown, action);

        Assert.NotNull(dialog);
        Assert.Contains(string.Format(CultureInfo.InvariantCulture, title, scenario.Names), ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Contains(consequence, ConsoleDriver.Consequences(dialog));
        Assert.Contains("data-testid=\"confirm-yes\"", dialog, StringComparison.Ordinal);
        Assert.False(await scenario.Happened(), "Showing the confirmation must change nothing.");

        var done = await ConsoleDriver.PostDialogAsync(console, shown, action);

        var named = string.Format(CultureInfo.InvariantCulture, notice, scenario.Names);
        if (scenario.Lands is { } lands)
        {
            Assert.Equal(lands, done.Headers.Location?.ToString());
            Assert.Equal(named, await ConsoleDriver.NoticeAfterAsync(console, done));
        }
        else
        {
            // The rotated secret is shown on the answer to the post itself (never through a redirect), with the notice above it.
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            Assert.Equal(named, NoticeIn(await done.Content.ReadAsStringAsync()));
        }

        Assert.True(await scenario.Happened(), "The confirmed post must do what the confirmation said.");
    }

    [PrerequisiteTheory]
    [InlineData("delete-role")]
    [InlineData("delete-permission")]
    [InlineData("rotate-secret")]
    [InlineData("delete-oidc")]
    [InlineData("remove-saml")]
    [InlineData("end-sessions")]
    public async Task DestructiveAction_AuditorWhoMayNotDoIt_GetsNoConfirmationAndNothingChanges(string action)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var scenario = await ArrangeAsync(action, admin);
        var auditor = await _console.SignedInAsync(IdentityHub.Core.Directory.AdminRoles.Auditor);

        var shown = await auditor.GetStringAsync(scenario.Page);

        Assert.Null(ConsoleDriver.Dialog(shown, action));
        Assert.DoesNotContain("data-testid=\"confirm-yes\"", shown, StringComparison.Ordinal);
        Assert.False(await scenario.Happened());
    }

    private async Task<Scenario> ArrangeAsync(string action, HttpClient admin)
    {
        switch (action)
        {
            case "delete-role":
            {
                var application = await AdminApiClient.CreateApplicationAsync(admin);
                var name = NewCode("viewer");
                var role = (await PostAsync(admin, Roles, new { applicationId = application, name })).GetProperty("id").GetGuid();
                return new($"/admin/roles/{role}?confirm=delete", [name, await ApplicationNameAsync(admin, application)], $"/admin/applications/{application}",
                    async () => (await admin.GetAsync($"{Roles}/{role}")).StatusCode == HttpStatusCode.NotFound);
            }

            case "delete-permission":
            {
                var application = await AdminApiClient.CreateApplicationAsync(admin);
                var url = $"{AdminApiClient.Applications}/{application}/permissions";
                var permission = (await PostAsync(admin, url, new { name = "leave.approve" })).GetProperty("id").GetGuid();
                return new($"/admin/applications/{application}/permissions/{permission}?confirm=delete", ["leave.approve", await ApplicationNameAsync(admin, application)],
                    $"/admin/applications/{application}#permissions-heading",
                    async () => (await admin.GetAsync($"{url}/{permission}")).StatusCode == HttpStatusCode.NotFound);
            }

            case "rotate-secret":
            {
                var http = factory.CreateClient();
                var (application, clientId, secret) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);
                return new($"/admin/applications/{application}?confirm=rotateSecret", [clientId], null,
                    async () => (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode != HttpStatusCode.OK);
            }

            case "delete-oidc":
            {
                var (application, clientId, _) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, factory.CreateClient());
                return new($"/admin/applications/{application}?confirm=deleteOidc", [clientId, await ApplicationNameAsync(admin, application)],
                    $"/admin/applications/{application}#oidc-heading",
                    async () => (await admin.GetAsync($"{AdminApiClient.Applications}/{application}/oidc")).StatusCode == HttpStatusCode.NotFound);
            }

            case "remove-saml":
            {
                var sp = await new SamlTestSp().RegisterAsync(factory);
                return new($"/admin/applications/{sp.ApplicationId}?confirm=removeSaml", [sp.EntityId, await ApplicationNameAsync(admin, sp.ApplicationId)],
                    $"/admin/applications/{sp.ApplicationId}#saml-heading",
                    async () => !await InDatabaseAsync(factory, db => db.SamlServiceProviders.AnyAsync(s => s.ApplicationId == sp.ApplicationId)));
            }

            case "end-sessions":
            {
                var displayName = "Zhao Lei " + NewCode("x");
                var user = await CreateUserAsync(admin, displayName: displayName);
                var stamp = await StampAsync(user);
                return new($"/admin/users/{user}?confirm=endSessions", [displayName], $"/admin/users/{user}", async () => await StampAsync(user) != stamp);
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, "No such action.");
        }
    }

    private static async Task<string> ApplicationNameAsync(HttpClient admin, Guid application) =>
        (await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{application}")).GetProperty("name").GetString()!;

    private Task<string?> StampAsync(string user) => InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == user).Select(u => u.SecurityStamp).SingleAsync());

    private static string NoticeIn(string html)
    {
        var match = NoticePattern().Match(html);
        Assert.True(match.Success, "The page shows no notice.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    [GeneratedRegex("data-testid=\"form-notice\">\\s*<strong>(.*?)</strong>", RegexOptions.Singleline)]
    private static partial Regex NoticePattern();
}

public sealed class SqliteConfirmedActionsTests(SqliteFactory factory) : ConfirmedActionsTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConfirmedActionsTests(PostgreSqlFactory factory) : ConfirmedActionsTests<PostgreSqlFactory>(factory);

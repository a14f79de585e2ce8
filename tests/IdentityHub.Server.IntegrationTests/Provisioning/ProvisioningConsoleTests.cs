using System.Net;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>The provisioning console pages as the super admin uses them, with forms posted the way a browser does (antiforgery token included).</summary>
[Requires(Prerequisite.Node)]
public sealed class ProvisioningConsoleTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    [PrerequisiteFact]
    public async Task ConnectorPage_DeliveredUser_ShowsHealthChartAndHistoryAndPauseResumeWork()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var (connectorId, userId) = await ConnectorWithDeliveredUserAsync(scim);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);

        var page = await browser.GetStringAsync($"/admin/provisioning/{connectorId}");
        Assert.Contains("data-testid=\"delivery-chart\"", page, StringComparison.Ordinal);
        Assert.Matches("data-testid=\"health\">healthy<", page);
        Assert.Matches("data-testid=\"chart-delivered\">[1-9]", page);

        var paused = await PostFormAsync(browser, $"/admin/provisioning/{connectorId}?handler=pause", page);
        Assert.Equal(HttpStatusCode.Redirect, paused.StatusCode);
        Assert.True(await PausedAsync(connectorId));
        var pausedPage = await browser.GetStringAsync($"/admin/provisioning/{connectorId}");
        Assert.Matches("data-testid=\"health\">paused<", pausedPage);
        await PostFormAsync(browser, $"/admin/provisioning/{connectorId}?handler=resume", pausedPage);
        Assert.False(await PausedAsync(connectorId));

        var history = await browser.GetStringAsync($"/admin/provisioning/history?user={userId}");
        Assert.Contains("data-testid=\"user-history\"", history, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DriftPage_CheckNow_ShowsInSyncAndFullSyncShowsAProgressBar()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var (connectorId, _) = await ConnectorWithDeliveredUserAsync(scim);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);

        var empty = await browser.GetStringAsync($"/admin/provisioning/{connectorId}/drift");
        var checkedNow = await PostFormAsync(browser, $"/admin/provisioning/{connectorId}/drift?handler=check", empty);
        Assert.Equal(HttpStatusCode.Redirect, checkedNow.StatusCode);
        Assert.Contains("data-testid=\"in-sync\"", await browser.GetStringAsync($"/admin/provisioning/{connectorId}/drift"), StringComparison.Ordinal);

        var connectorPage = await browser.GetStringAsync($"/admin/provisioning/{connectorId}");
        await PostFormAsync(browser, $"/admin/provisioning/{connectorId}?handler=fullSync", connectorPage);
        Assert.Contains("data-testid=\"sync-progress\"", await browser.GetStringAsync($"/admin/provisioning/{connectorId}"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DriftPage_Fix_AsksFirstSayingWhatItWillDoAndOnlyTheConfirmedPostRestoresTheAccount()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var (connectorId, userId) = await ConnectorWithDeliveredUserAsync(scim);
        var scimId = (await scim.UserByExternalIdAsync(userId))!.Value.GetProperty("id").GetString()!;
        await scim.RemoveBehindBackAsync(scimId);
        await scim.AddForeignUserAsync($"foreign-{Guid.NewGuid():N}"[..20]);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var drift = $"/admin/provisioning/{connectorId}/drift";
        await PostFormAsync(browser, $"{drift}?handler=check", await browser.GetStringAsync(drift));
        Assert.Contains("data-testid=\"drift-fix\"", await browser.GetStringAsync(drift), StringComparison.Ordinal);

        var asked = await browser.GetStringAsync($"{drift}?confirm=fix");

        var dialog = Admin.ConsoleDriver.Dialog(asked, "fix-drift");
        Assert.NotNull(dialog);
        var consequences = Admin.ConsoleDriver.Consequences(dialog);
        Assert.Contains("Checks the target again first, then sends the current state again for the 1 people whose account there is missing or different.", consequences);
        Assert.Contains("Keeps the 1 accounts that IdentityHub never provisioned (the connector is not set to remove them).", consequences);
        Assert.Null(await scim.UserByExternalIdAsync(userId));

        var done = await Admin.ConsoleDriver.PostDialogAsync(browser, asked, "fix-drift");

        Assert.Equal(HttpStatusCode.Redirect, done.StatusCode);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await scim.UserByExternalIdAsync(userId) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Waited 60 s for the fix to provision {userId} again.");
            await Task.Delay(50);
        }
    }

    [PrerequisiteFact]
    public async Task ConnectorPage_TestConnection_ShowsTheOutcomeAndTheSettingsButNeverTheSecret()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var (connectorId, _) = await ConnectorWithDeliveredUserAsync(scim);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync($"/admin/provisioning/{connectorId}");
        Assert.Contains(scim.ScimBaseUrl.ToString(), page, StringComparison.Ordinal);
        Assert.DoesNotContain(ScimTestServer.Token, page, StringComparison.Ordinal);

        var tested = await PostFormAsync(browser, $"/admin/provisioning/{connectorId}?handler=test", page);

        var html = await tested.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, tested.StatusCode);
        Assert.Contains("data-testid=\"test-result\" data-outcome=\"succeeded\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain(ScimTestServer.Token, html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task ConnectorPage_Webhook_OffersFullSyncAndSaysDriftCannotBeChecked()
    {
        var prefix = Guid.NewGuid().ToString("N")[..6];
        Guid connectorId;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var application = new Application { Id = Guid.NewGuid(), Name = $"hooks {prefix}", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
            var connector = new Connector
            {
                Id = Guid.NewGuid(), ApplicationId = application.Id, Name = $"hooks {prefix}", Kind = ConnectorKind.Webhook, Settings = """{"url":"https://hooks.example/x"}""",
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            };
            db.Applications.Add(application);
            db.Connectors.Add(connector);
            await db.SaveChangesAsync();
            connectorId = connector.Id;
        }

        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);

        var page = await browser.GetStringAsync($"/admin/provisioning/{connectorId}");

        Assert.Contains("data-testid=\"full-sync\"", page, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"drift-unavailable\"", page, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/admin/provisioning/{connectorId}/drift")).StatusCode);
    }

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient browser, string url, string pageWithForm) =>
        await browser.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(pageWithForm) }));

    private async Task<bool> PausedAsync(Guid connectorId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Connectors.Where(c => c.Id == connectorId).Select(c => c.Paused).SingleAsync();
    }

    private async Task<(Guid ConnectorId, string UserId)> ConnectorWithDeliveredUserAsync(ScimTestServer scim)
    {
        var prefix = Guid.NewGuid().ToString("N")[..6];
        await using var scope = factory.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<IdentityHubDbContext>();
        var application = new Application { Id = Guid.NewGuid(), Name = $"console {prefix}", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Applications.Add(application);
        var connector = new Connector
        {
            Id = Guid.NewGuid(), ApplicationId = application.Id, Name = $"scimmy {prefix}", Kind = ConnectorKind.Scim, Settings = scim.Settings(),
            ProtectedSecret = services.GetRequiredService<ConnectorSecrets>().Protect(ScimTestServer.Token), CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.Connectors.Add(connector);
        await db.SaveChangesAsync();
        var permission = await services.GetRequiredService<Permissions>().CreateAsync(application.Id, new("expense.view", null, null), CancellationToken.None);
        var role = await services.GetRequiredService<Roles>().CreateAsync(new(application.Id, "viewer", null, false, [new(permission.Id)]), CancellationToken.None);
        var user = await services.GetRequiredService<UserDirectory>().CreateAsync(new($"c{prefix}", $"Console {prefix}", null, null, $"C-{prefix}", null, null), null, CancellationToken.None);
        await services.GetRequiredService<RoleAssignments>().GrantAsync(new(user.Id, role.Id, null, null, null, "test"), CancellationToken.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await db.DeliveryAttempts.AnyAsync(a => a.ConnectorId == connector.Id && a.UserId == user.Id && a.Succeeded))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"Waited 30 s for the delivery of user {user.Id} to scimmy; attempts: "
                + string.Join("; ", await db.DeliveryAttempts.Where(a => a.ConnectorId == connector.Id).Select(a => a.Error ?? "ok").ToListAsync()));
            await Task.Delay(25);
        }

        return (connector.Id, user.Id);
    }
}

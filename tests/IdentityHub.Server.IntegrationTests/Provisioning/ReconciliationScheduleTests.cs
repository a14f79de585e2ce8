using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// Reconciliation on a schedule against the scimmy SCIM server: the drift check reads the target page by page (two
/// resources a page here), stores the report the console shows, and fixes nothing by itself; one node runs each run.
/// </summary>
public abstract class ReconciliationScheduleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task Schedule_DriftMadeByHand_StoredReportFindsEachKindAcrossPagesAndTheConsoleShowsIt()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var (connectorId, roleId) = await ScimConnectorWithRoleAsync(driver, scim);
        var users = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var userId = await driver.CreateUserAsync();
            await GrantAsync(userId, roleId);
            users.Add(userId);
        }

        var scimIds = new List<string>();
        foreach (var userId in users)
        {
            scimIds.Add(await WaitForScimIdAsync(scim, userId));
        }

        // A first delivery may already carry the role while the grant's own row is still queued: let it go out before tampering.
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);

        await scim.TamperAsync(scimIds[0], new JsonObject { ["roles"] = new JsonArray(new JsonObject { ["value"] = "root" }) });
        await scim.RemoveBehindBackAsync(scimIds[1]);
        var foreign = await scim.AddForeignUserAsync("stranger-" + Guid.NewGuid().ToString("N")[..6]);
        var tampered = DateTimeOffset.UtcNow;

        var status = await WaitForScheduledReportAsync(connectorId, after: tampered);

        var report = status.Report!;
        Assert.Equal(ReconciliationSchedule.RequestedBy, status.RequestedBy);
        Assert.Equal(5, report.Downstream);
        Assert.Equal(users[1], Assert.Single(report.Missing).UserId);
        Assert.Equal(foreign, Assert.Single(report.Extra).ScimId);
        Assert.Equal(users[0], Assert.Single(report.Different).UserId);
        Assert.Equal((1, 1, 1), (report.MissingCount, report.ExtraCount, report.DifferentCount));
        // RFC 7644 §3.4.2.4 paging: five users two a page is three pages, the last one starting at 5.
        var listed = (await scim.StoreAsync()).GetProperty("requests").EnumerateArray().Select(r => r.GetProperty("path").GetString()!).ToList();
        Assert.Contains(listed, path => path.Contains("/Users?startIndex=5&count=2", StringComparison.Ordinal));
        // Reporting fixes nothing: the removed user is still missing downstream, the stranger still there.
        var store = await scim.StoreAsync();
        Assert.Null(await scim.UserByExternalIdAsync(users[1]));
        Assert.Contains(store.GetProperty("users").EnumerateArray(), u => u.GetProperty("id").GetString() == foreign);

        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        foreach (var page in new[] { $"/admin/provisioning/{connectorId}", $"/admin/provisioning/{connectorId}/drift" })
        {
            var html = await browser.GetStringAsync(page);
            Assert.Contains("1 missing, 1 extra, 1 different", html, StringComparison.Ordinal);
            Assert.Contains($"(requested by {ReconciliationSchedule.RequestedBy})", html, StringComparison.Ordinal);
            Assert.Contains("data-testid=\"drift-next\"", html, StringComparison.Ordinal);
        }
    }

    [PrerequisiteFact]
    public async Task TryTakeAsync_TwoNodesTakeTheSameDueRun_OnlyOneGetsItAndRunsIt()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var (connectorId, _) = await ScimConnectorWithRoleAsync(driver, scim);
        // Two nodes' schedules (full sync hourly, no drift check) have both read the run as due.
        var nodes = Enumerable.Range(0, 2).Select(_ => ActivatorUtilities.CreateInstance<ReconciliationSchedule>(
            factory.Services, Options.Create(new ProvisioningOptions { FullSyncInterval = TimeSpan.FromHours(1) }))).ToList();
        await MakeFullSyncDueAsync(driver, connectorId);

        var taken = await Task.WhenAll(nodes.Select(n => n.TryTakeAsync(ScheduledJob.FullSync, connectorId, CancellationToken.None)));

        Assert.Equal(1, taken.Count(t => t));
        await MakeFullSyncDueAsync(driver, connectorId);
        var ran = await Task.WhenAll(nodes.Select(n => n.RunDueAsync(CancellationToken.None)));
        Assert.Equal(1, ran.Sum());
        Assert.Equal(0, await nodes[0].RunDueAsync(CancellationToken.None));
        Assert.Equal(1, await driver.ReadAsync(db => db.ReconciliationRuns.CountAsync(r => r.ConnectorId == connectorId && r.Kind == ReconciliationKind.FullSync)));
        var next = await driver.ReadAsync(db => db.Connectors.Where(c => c.Id == connectorId).Select(c => c.NextFullSyncAt).SingleAsync());
        Assert.True(next > DateTimeOffset.UtcNow.AddMinutes(59), $"next full sync {next:O}");
    }

    private static Task<int> MakeFullSyncDueAsync(ProvisioningDriver driver, Guid connectorId) =>
        driver.ReadAsync(db => db.Connectors.Where(c => c.Id == connectorId)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.NextFullSyncAt, DateTimeOffset.UtcNow.AddSeconds(-1))));

    /// <summary>The drift status once a check that started after <paramref name="after"/> stored its report (one running across it may have read half the tampering).</summary>
    private async Task<DriftStatus> WaitForScheduledReportAsync(Guid connectorId, DateTimeOffset after)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>();
            if (await db.ReconciliationRuns.AnyAsync(r => r.ConnectorId == connectorId && r.Kind == ReconciliationKind.Drift && r.Report != null && r.StartedAt > after))
            {
                return await scope.ServiceProvider.GetRequiredService<Reconciler>().DriftStatusAsync(connectorId, CancellationToken.None);
            }

            Assert.True(clock.Elapsed < Patience, $"no scheduled drift report started after {after:O}");
            await Task.Delay(200);
        }
    }

    private async Task<(Guid ConnectorId, Guid RoleId)> ScimConnectorWithRoleAsync(ProvisioningDriver driver, ScimTestServer scim)
    {
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        using var created = await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "scheduled", settings = JsonNode.Parse(scim.Settings()), secret = ScimTestServer.Token,
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var connectorId = Guid.Parse((await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
        await using var scope = factory.Services.CreateAsyncScope();
        var permission = await scope.ServiceProvider.GetRequiredService<Permissions>().CreateAsync(applicationId, new("expense.view", null, null), CancellationToken.None);
        var role = await scope.ServiceProvider.GetRequiredService<Roles>().CreateAsync(new(applicationId, "viewer", null, false, [new(permission.Id)]), CancellationToken.None);
        return (connectorId, role.Id);
    }

    private async Task GrantAsync(string userId, Guid roleId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RoleAssignments>().GrantAsync(new(userId, roleId, null, null, null, "test"), CancellationToken.None);
    }

    private static async Task<string> WaitForScimIdAsync(ScimTestServer scim, string userId)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await scim.UserByExternalIdAsync(userId) is { } user && user.TryGetProperty("roles", out _))
            {
                return user.GetProperty("id").GetString()!;
            }

            Assert.True(clock.Elapsed < Patience, $"user {userId} never reached the SCIM target");
            await Task.Delay(50);
        }
    }
}

/// <summary>A drift check every 2 s, listing two resources a page; quick retries.</summary>
public sealed class ScheduleSettings : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:PollInterval", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:02");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:02");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:10");
        builder.UseSetting("Provisioning:DriftCheckInterval", "00:00:02");
        builder.UseSetting("Provisioning:DriftCheckPageSize", "2");
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteReconciliationScheduleTests(SqliteFactory<ScheduleSettings> factory) : ReconciliationScheduleTests<SqliteFactory<ScheduleSettings>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlReconciliationScheduleTests(PostgreSqlFactory<ScheduleSettings> factory) : ReconciliationScheduleTests<PostgreSqlFactory<ScheduleSettings>>(factory);

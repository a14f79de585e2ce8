using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// A delivery never outlives its claim: a SCIM target that stalls every call (each under AttemptTimeout, together
/// past ClaimTimeout) while a second dispatcher ("another node") polls the same database must not lead to two
/// deliveries of one user at once, nor to an older state landing after a newer one, nor to one version for two states.
/// </summary>
public abstract class ClaimLapseTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [PrerequisiteFact]
    public async Task Deliver_TargetStallsPastTheClaimWithASecondNodePolling_NoOverlapAndTheLatestStateLands()
    {
        await using var scim = new ScimTestServer();
        await scim.InitializeAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var userId = await driver.CreateUserAsync();
        var (connectorId, roleId) = await ScimConnectorWithRoleAsync(driver, scim);
        await using var secondNode = await SecondDispatcherAsync("node-b");
        // A first groups-mode delivery makes five SCIM calls; 1.2 s each is 6 s, past the 5 s claim.
        await scim.InjectFaultsAsync([.. Enumerable.Range(0, 6).Select(_ => new JsonObject { ["delayMs"] = 1200 })]);

        await GrantAsync(userId, roleId);
        // The rename is committed while the first delivery's calls stall at the target (a state, not a guess at how long that takes).
        await WaitUntilAsync(async () => (await scim.StoreAsync()).GetProperty("traffic").GetProperty("inFlight").GetInt32() > 0, Patience);
        await driver.RenameAsync(userId, "Renamed while the target stalls");

        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        var stored = await scim.UserByExternalIdAsync(userId);
        Assert.True(stored is not null, "the user never reached the SCIM target");
        Assert.Equal("Renamed while the target stalls", stored.Value.GetProperty("displayName").GetString());
        var store = await scim.StoreAsync();
        Assert.Equal(1, store.GetProperty("traffic").GetProperty("maxInFlight").GetInt32());
        var attempts = await driver.AttemptsAsync(connectorId, userId);
        Assert.Contains(attempts, a => !a.Succeeded && a.Error!.Contains("within its claim", StringComparison.Ordinal));
        // Versions only grow from one attempt to the next, and the last delivered one is the version IdentityHub keeps.
        Assert.Equal(attempts.Select(a => a.Version).Order(), attempts.Select(a => a.Version));
        var known = await driver.ReadAsync(db => db.ConnectorUserStates.AsNoTracking().SingleAsync(s => s.ConnectorId == connectorId && s.UserId == userId));
        Assert.Equal(attempts.Last(a => a.Succeeded).Version, known.Version);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < timeout, $"Waited {timeout.TotalSeconds:0} s for {what}.");
            await Task.Delay(50);
        }
    }

    private async Task<(Guid ConnectorId, Guid RoleId)> ScimConnectorWithRoleAsync(ProvisioningDriver driver, ScimTestServer scim)
    {
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        using var created = await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "stalling", settings = JsonNode.Parse(scim.Settings(groupsMode: true)), secret = ScimTestServer.Token,
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

    /// <summary>Another node: a second dispatcher on the same database and settings, under its own node name.</summary>
    private async Task<SecondDispatcher> SecondDispatcherAsync(string nodeName)
    {
        var settings = new ProvisioningOptions();
        factory.Services.GetRequiredService<IConfiguration>().GetSection(ProvisioningOptions.Section).Bind(settings);
        settings.NodeName = nodeName;
        var dispatcher = ActivatorUtilities.CreateInstance<OutboxDispatcher>(factory.Services, Options.Create(settings));
        await dispatcher.StartAsync(CancellationToken.None);
        return new SecondDispatcher(dispatcher);
    }

    private sealed class SecondDispatcher(OutboxDispatcher dispatcher) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await dispatcher.StopAsync(CancellationToken.None);
            dispatcher.Dispose();
        }
    }
}

/// <summary>Calls stall up to 2 s each (AttemptTimeout), a claim lasts 5 s, retries come quickly and are never exhausted.</summary>
public sealed class ClaimLapseSettings : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:PollInterval", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:01");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:02");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:05");
        builder.UseSetting("Provisioning:MaxAttempts", "50");
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteClaimLapseTests(SqliteFactory<ClaimLapseSettings> factory) : ClaimLapseTests<SqliteFactory<ClaimLapseSettings>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlClaimLapseTests(PostgreSqlFactory<ClaimLapseSettings> factory) : ClaimLapseTests<PostgreSqlFactory<ClaimLapseSettings>>(factory);

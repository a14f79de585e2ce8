using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The whole path to a real SCIM server: a change made through the admin API (or the Core services it calls) is
/// queued, dispatched and visible in scimmy's own store; reconciliation then reads scimmy back. Each test gets a
/// scimmy of its own, so drift reports see only that test's users. How fast a change arrives is measured in
/// bench/propagation-latency.sh; here it is only written to the test output, and the deadlines are generous.
/// </summary>
[Requires(Prerequisite.Node)]
public abstract class ScimProvisioningTests<TFactory>(TFactory factory, ITestOutputHelper output) : IClassFixture<TFactory>, IAsyncLifetime
    where TFactory : IdentityHubFactory
{
    /// <summary>How long a test waits for a state downstream: long enough for a machine busy with other suites.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly List<Guid> _connectors = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Removes this test's connector: its scimmy is gone, and its retries would slow the next tests' deliveries.</summary>
    public async Task DisposeAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        db.Connectors.RemoveRange(db.Connectors.Where(c => _connectors.Contains(c.Id)));
        await db.SaveChangesAsync();
    }

    [PrerequisiteFact]
    public async Task AssignmentsApi_ApprovalRoleGrantedThenEnded_AppearsInScimThenIsRemoved()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        var user = await CreateUserAsync(world, "P1");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        await WarmUpAsync(scim, world, admin);

        // The clock starts before the request: it covers the API call, the commit and the delivery (reported, not asserted).
        var grantClock = Stopwatch.StartNew();
        using var granted = await admin.PostAsJsonAsync("/api/admin/v1/assignments", new { userId = user.Id, roleId = world.ApproverRoleId, departmentId = world.EastId, reason = "approves East's expenses" });
        Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
        var assignment = (await granted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var (stored, _) = await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
        output.WriteLine($"grant visible in scimmy {grantClock.Elapsed.TotalMilliseconds:0} ms after the request started");

        Assert.Equal(user.EmployeeNumber, stored.GetProperty("userName").GetString());
        var entitlement = stored.GetProperty("entitlements").EnumerateArray().Single();
        Assert.Equal("expense.approve", entitlement.GetProperty("value").GetString());
        Assert.Equal(world.EastCode, entitlement.GetProperty("type").GetString());
        Assert.Equal($"{world.Prefix} Sales / {world.Prefix} East; amountLimit=5000", entitlement.GetProperty("display").GetString());

        var endClock = Stopwatch.StartNew();
        using var ended = await admin.PostAsJsonAsync($"/api/admin/v1/assignments/{assignment}/end", new { reason = "moved on" });
        Assert.True(ended.IsSuccessStatusCode, await ended.Content.ReadAsStringAsync());
        await WaitForAsync(scim, user.Id, _ => false, expectGone: true);
        output.WriteLine($"removed from scimmy {endClock.Elapsed.TotalMilliseconds:0} ms after the request started");
    }

    [PrerequisiteFact]
    public async Task DepartmentsApi_ScopeDepartmentMoved_UpdatesTheScopedEntitlementDownstream()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        var user = await CreateUserAsync(world, "P2");
        await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
        await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        await WarmUpAsync(scim, world, admin);

        var moveClock = Stopwatch.StartNew();
        using var moved = await admin.PostAsJsonAsync($"/api/admin/v1/departments/{world.EastId}/move", new { parentId = world.MarketingId });
        Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());

        var expected = $"{world.Prefix} Marketing / {world.Prefix} East; amountLimit=5000";
        await WaitForAsync(scim, user.Id, u => Display(u) == expected);
        output.WriteLine($"moved scope visible in scimmy {moveClock.Elapsed.TotalMilliseconds:0} ms after the request started");
    }

    [PrerequisiteFact]
    public async Task GrantAsync_ManagerProvisionedAfterTheirReport_ReportGetsTheManagersScimId()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        var manager = await CreateUserAsync(world, "M1");
        var report = await CreateUserAsync(world, "R1", managerId: manager.Id);
        await GrantAsync(report.Id, world.ViewerRoleId, null);
        var (before, _) = await WaitForAsync(scim, report.Id, u => Roles(u).Contains("viewer"));
        Assert.False(before.GetProperty(ScimUser.EnterpriseSchema).TryGetProperty("manager", out _), "The manager is not there yet.");

        await GrantAsync(manager.Id, world.ApproverRoleId, world.EastId);

        var (managerStored, _) = await WaitForAsync(scim, manager.Id, u => Roles(u).Contains("approver"));
        var managerScimId = managerStored.GetProperty("id").GetString();
        var (after, _) = await WaitForAsync(scim, report.Id, u => u.GetProperty(ScimUser.EnterpriseSchema).TryGetProperty("manager", out var m) && m.GetProperty("value").GetString() == managerScimId);
        Assert.Equal(managerScimId, after.GetProperty(ScimUser.EnterpriseSchema).GetProperty("manager").GetProperty("value").GetString());
        Assert.True((await CheckAsync(world.ConnectorId)).InSync);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_RevokedThenGrantedAgain_DeletedThenCreatedWithoutAPutToTheForgottenId()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        var user = await CreateUserAsync(world, "G1");
        var first = await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
        var oldId = (await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"))).Resource.GetProperty("id").GetString()!;

        await EndAsync(first);
        await WaitForAsync(scim, user.Id, _ => false, expectGone: true);
        // The delivery is recorded once the DELETE was answered: IdentityHub then knows no SCIM id for the user.
        var known = await WaitForKnownAsync(world.ConnectorId, user.Id, s => s.ExternalId is null);
        Assert.Null(known.ExternalId);
        var revoked = (await scim.RequestsAsync()).Count;
        await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
        var newId = (await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"))).Resource.GetProperty("id").GetString()!;

        var requests = await scim.RequestsAsync();
        Assert.Contains(requests.Take(revoked), r => r.Method == "DELETE" && r.Path.EndsWith("/Users/" + oldId, StringComparison.Ordinal) && r.Status == 204);
        var regrant = requests.Skip(revoked).ToList();
        // RFC 7644 §3.3: created by POST; the deleted id is never PUT to (which would only earn a 404 before the POST).
        Assert.Contains(regrant, r => r.Method == "POST" && r.Path.EndsWith("/Users", StringComparison.Ordinal) && r.Status == 201);
        Assert.DoesNotContain(requests, r => r.Method == "PUT" && r.Path.Contains(oldId, StringComparison.Ordinal));
        Assert.DoesNotContain(requests, r => r.Status == 404);
        Assert.NotEqual(oldId, newId);
        Assert.Equal(newId, (await WaitForKnownAsync(world.ConnectorId, user.Id, s => s.ExternalId == newId)).ExternalId);
    }

    [PrerequisiteFact]
    public async Task GrantAsync_GroupsMode_RoleBecomesGroupMembershipAndEndingItLeavesTheGroup()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim, groupsMode: true);
        var user = await CreateUserAsync(world, "P3");
        await GrantAsync(user.Id, world.ViewerRoleId, null);
        var approver = await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);

        var (stored, _) = await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
        var scimId = stored.GetProperty("id").GetString()!;
        await WaitUntilAsync(async () => (await scim.GroupsOfAsync(scimId)).SequenceEqual(["approver", "viewer"]));

        await EndAsync(approver);

        await WaitUntilAsync(async () => (await scim.GroupsOfAsync(scimId)).SequenceEqual(["viewer"]));
    }

    [PrerequisiteFact]
    public async Task Drift_AfterDeliveryAndAfterTampering_ReportsNothingThenEachKindAndFixesIt()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim, extra: ""","removeExtras":true""");
        var kept = await CreateUserAsync(world, "P4");
        var changed = await CreateUserAsync(world, "P5");
        var lost = await CreateUserAsync(world, "P6");
        foreach (var user in new[] { kept, changed, lost })
        {
            await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
        }

        var changedScim = (await WaitForAsync(scim, changed.Id, u => Roles(u).Contains("approver"))).Resource.GetProperty("id").GetString()!;
        var lostScim = (await WaitForAsync(scim, lost.Id, u => Roles(u).Contains("approver"))).Resource.GetProperty("id").GetString()!;
        await WaitForAsync(scim, kept.Id, u => Roles(u).Contains("approver"));
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var clean = await admin.GetFromJsonAsync<DriftReport>($"/api/admin/v1/connectors/{world.ConnectorId}/drift?refresh=true", AdminApiClient.Json);
        Assert.True(clean!.InSync, JsonSerializer.Serialize(clean));
        Assert.Equal(3, clean.Downstream);

        await scim.TamperAsync(changedScim, new JsonObject { ["roles"] = new JsonArray(new JsonObject { ["value"] = "root" }), ["active"] = false });
        await scim.RemoveBehindBackAsync(lostScim);
        var foreign = await scim.AddForeignUserAsync($"{world.Prefix}-stranger");
        var drift = await admin.GetFromJsonAsync<DriftReport>($"/api/admin/v1/connectors/{world.ConnectorId}/drift?refresh=true", AdminApiClient.Json);

        Assert.Equal([lost.Id], drift!.Missing.Select(i => i.UserId));
        Assert.Equal([foreign], drift.Extra.Select(i => i.ScimId));
        var different = Assert.Single(drift.Different);
        Assert.Equal(changed.Id, different.UserId);
        Assert.Equal(["active", "roles"], different.Fields.Order(StringComparer.Ordinal));

        var fixResponse = await admin.PostAsync(new Uri($"/api/admin/v1/connectors/{world.ConnectorId}/drift/fix", UriKind.Relative), null);
        var fix = await fixResponse.Content.ReadFromJsonAsync<DriftFix>(AdminApiClient.Json);
        Assert.Equal(new DriftFix(2, 1, 0), fix);
        await WaitUntilAsync(async () => (await CheckAsync(world.ConnectorId)).InSync);
    }

    [PrerequisiteFact]
    public async Task FullSync_AfterStoreWiped_QueuesEveryHolderAndProgressReachesTheTotal()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        var users = new List<UserAccount>();
        for (var i = 0; i < 5; i++)
        {
            var user = await CreateUserAsync(world, $"F{i}");
            await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
            users.Add(user);
        }

        foreach (var user in users)
        {
            var (stored, _) = await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
            await scim.RemoveBehindBackAsync(stored.GetProperty("id").GetString()!);
        }

        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var started = await admin.PostAsync(new Uri($"/api/admin/v1/connectors/{world.ConnectorId}/full-sync", UriKind.Relative), null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(5, (await started.Content.ReadFromJsonAsync<FullSyncProgress>(AdminApiClient.Json))!.Total);

        FullSyncProgress? progress = null;
        await WaitUntilAsync(async () =>
        {
            progress = await admin.GetFromJsonAsync<FullSyncProgress>($"/api/admin/v1/connectors/{world.ConnectorId}/full-sync", AdminApiClient.Json);
            return progress!.Done;
        });
        Assert.Equal(5, progress!.Processed);
        Assert.Equal(0, progress.Failed);
        Assert.True((await CheckAsync(world.ConnectorId)).InSync);
    }

    [PrerequisiteFact]
    public async Task CreateConnector_ScimWithoutBaseUrlOrToken_IsRefusedNamingTheFields()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);

        using var refused = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "scim", name = "broken", settings = new { groupsMode = true } });

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        var errors = (await refused.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("settings.baseUrl"), errors.ToJsonString());
        Assert.True(errors.ContainsKey("secret"), errors.ToJsonString());
    }

    [PrerequisiteFact]
    public async Task Deliveries_TargetFailingThenThrottlingThenStalling_AllArriveAndReconciliationReportsZeroDrift()
    {
        await using var scim = await StartScimAsync();
        var world = await WorldAsync(scim);
        await scim.InjectFaultsAsync(
            new JsonObject { ["status"] = 500 }, new JsonObject { ["status"] = 503 }, new JsonObject { ["status"] = 500 },
            new JsonObject { ["status"] = 429, ["retryAfter"] = 1 }, new JsonObject { ["delayMs"] = 3000 }, new JsonObject { ["status"] = 502 });
        var users = new List<UserAccount>();
        for (var i = 0; i < 3; i++)
        {
            var user = await CreateUserAsync(world, $"X{i}");
            await GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
            users.Add(user);
        }

        foreach (var user in users)
        {
            await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
        }

        var report = await CheckAsync(world.ConnectorId);
        Assert.True(report.InSync, JsonSerializer.Serialize(report));
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var failures = db.DeliveryAttempts.Where(a => a.ConnectorId == world.ConnectorId && !a.Succeeded).Select(a => a.StatusCode).ToList();
        Assert.Contains(500, failures.OfType<int>());
        Assert.Contains(429, failures.OfType<int>());
        Assert.Contains(null, failures);
    }

    private sealed record World(string Prefix, Guid ApplicationId, Guid ConnectorId, Guid ApproverRoleId, Guid ViewerRoleId, Guid SalesId, Guid EastId, string EastCode, Guid MarketingId);

    private static Task<ScimTestServer> StartScimAsync() => ScimTestServer.StartAsync();

    private async Task<World> WorldAsync(ScimTestServer scim, bool groupsMode = false, string extra = "")
    {
        var prefix = Guid.NewGuid().ToString("N")[..6];
        await using var scope = factory.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var departments = services.GetRequiredService<Departments>();
        var sales = await departments.CreateAsync(new($"{prefix}-S", $"{prefix} Sales", null), CancellationToken.None);
        var east = await departments.CreateAsync(new($"{prefix}-E", $"{prefix} East", sales.Id), CancellationToken.None);
        var marketing = await departments.CreateAsync(new($"{prefix}-M", $"{prefix} Marketing", null), CancellationToken.None);
        var db = services.GetRequiredService<IdentityHubDbContext>();
        var application = new Application { Id = Guid.NewGuid(), Name = $"expense {prefix}", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Applications.Add(application);
        await db.SaveChangesAsync();
        // Configured the way an operator does: through the connectors admin API, with the bearer token as the write-only secret.
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var created = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{application.Id}/connectors", new
        {
            kind = "scim", name = "scimmy", settings = JsonNode.Parse(scim.Settings(groupsMode, extra)), secret = ScimTestServer.Token,
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var connector = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        _connectors.Add(Guid.Parse(connector["id"]!.GetValue<string>()));
        var permissions = services.GetRequiredService<Permissions>();
        var approve = await permissions.CreateAsync(application.Id, new("expense.approve", null, new Dictionary<string, string> { ["amountLimit"] = "5000" }), CancellationToken.None);
        var view = await permissions.CreateAsync(application.Id, new("expense.view", null, null), CancellationToken.None);
        var roles = services.GetRequiredService<Roles>();
        var approver = await roles.CreateAsync(new(application.Id, "approver", null, false, [new(approve.Id)]), CancellationToken.None);
        var viewer = await roles.CreateAsync(new(application.Id, "viewer", null, false, [new(view.Id)]), CancellationToken.None);
        return new World(prefix, application.Id, Guid.Parse(connector["id"]!.GetValue<string>()), approver.Id, viewer.Id, sales.Id, east.Id, east.Code, marketing.Id);
    }

    private async Task<UserAccount> CreateUserAsync(World world, string name, string? managerId = null)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var number = $"{world.Prefix}-{name}";
        return await scope.ServiceProvider.GetRequiredService<UserDirectory>().CreateAsync(
            new(number.ToLowerInvariant(), $"User {number}", $"{number.ToLowerInvariant()}@example.test", null, number, world.SalesId, managerId), null, CancellationToken.None);
    }

    private async Task<Guid> GrantAsync(string userId, Guid roleId, Guid? departmentId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<RoleAssignments>().GrantAsync(new(userId, roleId, departmentId, null, null, "test"), CancellationToken.None)).Id;
    }

    private async Task EndAsync(Guid assignmentId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(assignmentId, "test", CancellationToken.None);
    }

    /// <summary>
    /// The same calls once before the clock runs (a grant, its end, a department move, each through the admin API):
    /// the proof measures a running server, not the first request's compilation and connection set-up.
    /// </summary>
    private async Task WarmUpAsync(ScimTestServer scim, World world, HttpClient admin)
    {
        var user = await CreateUserAsync(world, "W" + Guid.NewGuid().ToString("N")[..4]);
        using var granted = await admin.PostAsJsonAsync("/api/admin/v1/assignments", new { userId = user.Id, roleId = world.ApproverRoleId, departmentId = world.EastId, reason = "warm-up" });
        Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
        await WaitForAsync(scim, user.Id, u => Roles(u).Contains("approver"));
        var assignment = (await granted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var ended = await admin.PostAsJsonAsync($"/api/admin/v1/assignments/{assignment}/end", new { reason = "warm-up done" });
        Assert.True(ended.IsSuccessStatusCode, await ended.Content.ReadAsStringAsync());
        await WaitForAsync(scim, user.Id, _ => false, expectGone: true);
        await using var scope = factory.Services.CreateAsyncScope();
        var spare = await scope.ServiceProvider.GetRequiredService<Departments>().CreateAsync(new($"{world.Prefix}-W{Guid.NewGuid():N}"[..20], "Warm-up", null), CancellationToken.None);
        using var moved = await admin.PostAsJsonAsync($"/api/admin/v1/departments/{spare.Id}/move", new { parentId = world.MarketingId });
        Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
    }

    /// <summary>What IdentityHub knows of the user at the connector, once <paramref name="done"/> holds (the delivery is recorded after the target answered).</summary>
    private async Task<ConnectorUserState> WaitForKnownAsync(Guid connectorId, string userId, Func<ConnectorUserState, bool> done, [CallerArgumentExpression(nameof(done))] string? what = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var known = await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().ConnectorUserStates.AsNoTracking()
                .SingleOrDefaultAsync(s => s.ConnectorId == connectorId && s.UserId == userId);
            if (known is not null && done(known))
            {
                return known;
            }

            Assert.True(clock.Elapsed < Patience, $"Waited {Patience.TotalSeconds:0} s for {what}; last seen: {JsonSerializer.Serialize(known)}");
            await Task.Delay(50);
        }
    }

    private async Task<DriftReport> CheckAsync(Guid connectorId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<Reconciler>().CheckAsync(connectorId, CancellationToken.None);
    }

    /// <summary>Polls scimmy's store every 20 ms (up to <see cref="Patience"/>) until the user matches (or is gone); returns it and the time it took.</summary>
    private static async Task<(JsonElement Resource, TimeSpan Elapsed)> WaitForAsync(
        ScimTestServer scim, string userId, Func<JsonElement, bool> matches, bool expectGone = false, [CallerArgumentExpression(nameof(matches))] string? what = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            var user = await scim.UserByExternalIdAsync(userId);
            if (expectGone ? user is null : user is { } found && matches(found))
            {
                return (user ?? default, clock.Elapsed);
            }

            await Task.Delay(20);
        }

        throw new TimeoutException(
            $"Waited {Patience.TotalSeconds:0} s for user {userId} to be {(expectGone ? "gone" : what)} in scimmy; last seen: {JsonSerializer.Serialize(await scim.UserByExternalIdAsync(userId))}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, [CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, $"Waited {Patience.TotalSeconds:0} s for {what}.");
            await Task.Delay(50);
        }
    }

    private static List<string> Roles(JsonElement user) =>
        user.TryGetProperty("roles", out var roles) ? [.. roles.EnumerateArray().Select(r => r.GetProperty("value").GetString()!)] : [];

    private static string? Display(JsonElement user) =>
        user.TryGetProperty("entitlements", out var e) && e.GetArrayLength() > 0 && e[0].TryGetProperty("display", out var d) ? d.GetString() : null;
}

/// <summary>Quick retries (backoff 0.2 s to 2 s, 2 s attempt timeout) so fault tests finish in seconds.</summary>
public sealed class ScimFactorySettings : IServerSettings
{
    public static void Apply(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:02");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:02");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:10");
    }
}

public sealed class SqliteScimProvisioningTests(SqliteFactory<ScimFactorySettings> factory, ITestOutputHelper output)
    : ScimProvisioningTests<SqliteFactory<ScimFactorySettings>>(factory, output);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlScimProvisioningTests(PostgreSqlFactory<ScimFactorySettings> factory, ITestOutputHelper output)
    : ScimProvisioningTests<PostgreSqlFactory<ScimFactorySettings>>(factory, output);

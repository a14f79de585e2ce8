using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The REST connector's reconciliation and tools through the admin API: drift check and fix through the list operation,
/// the full sync deleting departments deleted in IdentityHub, test connection, dry-run preview, and the presets list.
/// </summary>
public abstract class RestReconciliationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>, IAsyncLifetime
    where TFactory : IdentityHubFactory
{
    private readonly List<RestWorld> _worlds = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var world in _worlds)
        {
            await world.RemoveConnectorAsync();
        }
    }

    [PrerequisiteFact]
    public async Task Drift_ExpenseVendorChangedBehindOurBack_ReportsMissingExtraDifferentAndTheFixRepairsOurs()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var tampered = await world.CreateUserAsync("A");
        var removed = await world.CreateUserAsync("B");
        foreach (var user in new[] { tampered, removed })
        {
            await world.GrantAsync(user.Id, world.ApproverRoleId, world.EastId);
            await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the user at the vendor");
        }

        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var clean = await DriftAsync(admin, world);
        Assert.True(clean.GetProperty("inSync").GetBoolean(), clean.ToString());

        vendor.TamperRoles(tampered.EmployeeNumber!, "approver", "finance");
        vendor.RemoveBehindBack(removed.EmployeeNumber!);
        vendor.AddForeign($"{world.Prefix}-LOCAL");
        var drift = await DriftAsync(admin, world);

        var different = Assert.Single(drift.GetProperty("different").EnumerateArray());
        Assert.Equal(tampered.Id, different.GetProperty("userId").GetString());
        Assert.Equal(["roles"], different.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(removed.Id, Assert.Single(drift.GetProperty("missing").EnumerateArray()).GetProperty("userId").GetString());
        Assert.Equal($"{world.Prefix}-LOCAL", Assert.Single(drift.GetProperty("extra").EnumerateArray()).GetProperty("userName").GetString());

        using var fix = await admin.PostAsync($"/api/admin/v1/connectors/{world.ConnectorId}/drift/fix", null);
        Assert.True(fix.IsSuccessStatusCode, await fix.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Employee(tampered.EmployeeNumber!), e => e!.Roles.SequenceEqual(["approver"]), "the tampered roles repaired");
        await RestWorld.WaitForAsync(() => vendor.Employee(removed.EmployeeNumber!), e => e is not null, "the removed employee back");
        var after = await DriftAsync(admin, world);
        Assert.Equal(0, after.GetProperty("missingCount").GetInt32());
        Assert.Equal(0, after.GetProperty("differentCount").GetInt32());
        Assert.Equal(1, after.GetProperty("extraCount").GetInt32());
    }

    [PrerequisiteFact]
    public async Task FullSync_DepartmentDeletedInIdentityHub_DeletedAtTheVendor()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        Department team;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            team = await scope.ServiceProvider.GetRequiredService<Departments>().CreateAsync(new($"{world.Prefix}-T", $"{world.Prefix} Team", world.SalesId), CancellationToken.None);
        }

        var user = await world.CreateUserAsync("F1", team.Id);
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e?.DepartmentCode == team.Code, "the user in the team at the vendor");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var movedUser = await admin.PutAsJsonAsync($"/api/admin/v1/users/{user.Id}", new
        {
            userName = user.UserName, displayName = user.DisplayName, email = user.Email, employeeNumber = user.EmployeeNumber, departmentId = world.EastId,
        });
        Assert.True(movedUser.IsSuccessStatusCode, await movedUser.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e?.DepartmentCode == world.EastCode, "the user moved at the vendor");
        using var deleted = await admin.DeleteAsync($"/api/admin/v1/departments/{team.Id}");
        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());
        Assert.True(vendor.Departments.ContainsKey(team.Code), "Deleting a department here sends nothing by itself: the full sync does.");

        using var sync = await admin.PostAsync($"/api/admin/v1/connectors/{world.ConnectorId}/full-sync", null);

        Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        Assert.False(vendor.Departments.ContainsKey(team.Code));
        Assert.True(vendor.Departments.ContainsKey(world.EastCode));
        Assert.Equal(0, await world.ReadAsync(db => db.ConnectorDepartmentStates.CountAsync(s => s.ConnectorId == world.ConnectorId && s.DepartmentId == team.Id)));
    }

    [PrerequisiteFact]
    public async Task TestConnection_RightAndWrongSecret_SucceedsThenReportsTheVendorsRefusal()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var wrong = await RestWorld.CreateConnectorAsync(factory, world.ApplicationId, "expense", RestWorld.ExpenseSettings(vendor), "not-the-app-secret");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        // A cold start on a loaded machine can outlast these tests' 2 s attempt timeout: the measured calls come after one warm-up.
        (await admin.PostAsync($"/api/admin/v1/connectors/{world.ConnectorId}/test", null)).Dispose();

        var good = await admin.PostAsync($"/api/admin/v1/connectors/{world.ConnectorId}/test", null);
        var bad = await admin.PostAsync($"/api/admin/v1/connectors/{wrong}/test", null);

        var goodResult = await good.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(goodResult.GetProperty("outcome").GetString() == "succeeded", goodResult.ToString());
        Assert.Equal("listUsers", goodResult.GetProperty("operation").GetString());
        var badResult = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", badResult.GetProperty("outcome").GetString());
        Assert.Contains("signature mismatch", badResult.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("page=1&size=1", vendor.Requests[0].PathAndQuery, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Preview_UserNotYetDelivered_ShowsTheSignedRequestsInOrderAndSendsNothing()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var paused = await admin.PostAsync($"/api/admin/v1/connectors/{world.ConnectorId}/pause", null);
        Assert.True(paused.IsSuccessStatusCode);
        var user = await world.CreateUserAsync("W1");
        await world.GrantAsync(user.Id, world.ApproverRoleId, world.EastId);

        var preview = await admin.GetFromJsonAsync<JsonElement>($"/api/admin/v1/connectors/{world.ConnectorId}/preview?userId={user.Id}");

        Assert.Equal("upsert", preview.GetProperty("action").GetString());
        var requests = preview.GetProperty("requests").EnumerateArray().ToList();
        Assert.Equal(["upsertDepartment", "upsertDepartment", "createUser"], requests.Select(r => r.GetProperty("operation").GetString()));
        var create = requests[2];
        Assert.Equal("POST", create.GetProperty("method").GetString());
        Assert.Equal(new Uri(vendor.ApiBaseUrl, "v1/employees").AbsoluteUri, create.GetProperty("url").GetString());
        var body = create.GetProperty("body").GetString()!;
        Assert.Equal(user.EmployeeNumber, JsonDocument.Parse(body).RootElement.GetProperty("employeeNo").GetString());
        var headers = create.GetProperty("headers").EnumerateArray().ToDictionary(h => h.GetProperty("name").GetString()!, h => h.GetProperty("value").GetString()!);
        Assert.Equal(ExpenseVendor.AppKey, headers["App-Key"]);
        Assert.True(headers.ContainsKey("Idempotency-Key"));
        // The signature shown is the one the vendor would accept for exactly this request.
        var canonical = ExpenseVendor.CanonicalString(ExpenseVendor.AppKey, headers["Timestamp"], headers["Nonce"], "POST", new Uri(create.GetProperty("url").GetString()!).PathAndQuery, body);
        Assert.Equal(ExpenseVendor.Sign(canonical), headers["Signature"]);
        Assert.Empty(vendor.Requests);
        Assert.True(await world.StateAsync(user.Id) is null or { Version: 0 }, "A preview saves no version.");
    }

    [PrerequisiteFact]
    public async Task Presets_Listed_NameTitlesInEnglishAndChineseAndTheirSettings()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        var presets = await admin.GetFromJsonAsync<JsonElement>("/api/admin/v1/connector-presets");

        var byName = presets.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["attendance", "expense"], byName.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("合思", byName["expense"].GetProperty("title").GetProperty("zh-CN").GetString(), StringComparison.Ordinal);
        Assert.Contains("i人事", byName["attendance"].GetProperty("title").GetProperty("en").GetString(), StringComparison.Ordinal);
        Assert.Equal("hmac", byName["expense"].GetProperty("settings").GetProperty("auth").GetProperty("type").GetString());
        Assert.Equal("oauth2", byName["attendance"].GetProperty("settings").GetProperty("auth").GetProperty("type").GetString());
    }

    private async Task<RestWorld> ExpenseWorldAsync(ExpenseVendor vendor)
    {
        var world = await RestWorld.CreateAsync(factory, "expense", RestWorld.ExpenseSettings(vendor), ExpenseVendor.AppSecret);
        _worlds.Add(world);
        return world;
    }

    private static async Task<JsonElement> DriftAsync(HttpClient admin, RestWorld world)
    {
        using var response = await admin.GetAsync($"/api/admin/v1/connectors/{world.ConnectorId}/drift?refresh=true");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

public sealed class SqliteRestReconciliationTests(SqliteFactory<RestFactorySettings> factory) : RestReconciliationTests<SqliteFactory<RestFactorySettings>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRestReconciliationTests(PostgreSqlFactory<RestFactorySettings> factory) : RestReconciliationTests<PostgreSqlFactory<RestFactorySettings>>(factory);

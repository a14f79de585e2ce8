using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The REST connector against the vendor stand-ins (real Kestrel): a 合思-style expense API signed with App-Key, Timestamp,
/// Nonce and Signature and answering {code, message, data}, and an i人事-style attendance API with short-lived OAuth tokens and
/// Idempotency-Key de-duplication. Each test has a vendor and a connector of its own; the deadlines are generous (a loaded
/// machine must not fail them) and the latency measured is written to the test output.
/// </summary>
public abstract class RestConnectorTests<TFactory>(TFactory factory, ITestOutputHelper output) : IClassFixture<TFactory>, IAsyncLifetime
    where TFactory : IdentityHubFactory
{
    private readonly List<RestWorld> _worlds = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>This test's connectors go: their vendor is gone, and their retries would slow the next test.</summary>
    public async Task DisposeAsync()
    {
        foreach (var world in _worlds)
        {
            await world.RemoveConnectorAsync();
        }
    }

    [PrerequisiteFact]
    public async Task Grant_ExpensePreset_DepartmentsCreatedParentFirstThenTheEmployeeAndTheVendorIdKept()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("P1");

        await world.GrantAsync(user.Id, world.ApproverRoleId, world.EastId);

        var (employee, _) = await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the employee at the vendor");
        Assert.Equal([world.SalesCode, world.EastCode], vendor.DepartmentsCreated);
        Assert.Equal(world.SalesCode, vendor.Departments[world.EastCode].ParentCode);
        var departmentCreated = vendor.Requests.Where(r => r.PathAndQuery.EndsWith("/departments", StringComparison.Ordinal)).Max(r => r.At);
        var employeeCreated = vendor.Requests.First(r => r.PathAndQuery.EndsWith("/employees", StringComparison.Ordinal) && r.Method == "POST").At;
        Assert.True(departmentCreated <= employeeCreated, "The departments reach the vendor before the person in them.");
        Assert.Equal(world.EastCode, employee!.DepartmentCode);
        Assert.Equal(["approver"], employee.Roles);
        Assert.Equal(2m, employee.ApproverLevel);
        Assert.Equal(5000m, employee.AmountLimit);
        var (state, _) = await RestWorld.WaitForAsync(() => world.StateAsync(user.Id), s => s?.LastDeliveredAt is not null, "the delivery recorded");
        Assert.Equal(employee.Id, state!.ExternalId);
        Assert.Equal(employee.Version, state.Version);
    }

    [PrerequisiteFact]
    public async Task AdminApi_GrantRevokeMoveAndManagerChange_EachReachesTheExpenseVendor()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var manager = await world.CreateUserAsync("M1");
        var user = await world.CreateUserAsync("U1");
        await world.GrantAsync(manager.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employee(manager.EmployeeNumber!), e => e is not null, "the manager at the vendor");
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        var grant = Stopwatch.StartNew();
        using var granted = await admin.PostAsJsonAsync("/api/admin/v1/assignments", new { userId = user.Id, roleId = world.ApproverRoleId, departmentId = world.EastId, reason = "approves East" });
        Assert.True(granted.IsSuccessStatusCode, await granted.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is { Active: true } && e.Roles.Contains("approver"), "the grant at the vendor");
        output.WriteLine($"grant: {grant.ElapsedMilliseconds} ms from the API call to the vendor");

        var move = Stopwatch.StartNew();
        using var moved = await admin.PostAsJsonAsync($"/api/admin/v1/departments/{world.EastId}/move", new { parentId = world.MarketingId });
        Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Departments[world.EastCode].ParentCode, p => p == world.MarketingCode, "the moved department at the vendor");
        output.WriteLine($"department move: {move.ElapsedMilliseconds} ms");

        var managerChange = Stopwatch.StartNew();
        using var changed = await admin.PutAsJsonAsync($"/api/admin/v1/users/{user.Id}", new
        {
            userName = user.UserName, displayName = user.DisplayName, email = user.Email, employeeNumber = user.EmployeeNumber, departmentId = world.EastId, managerId = manager.Id,
        });
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e?.ManagerNo == manager.EmployeeNumber, "the manager change at the vendor");
        output.WriteLine($"manager change: {managerChange.ElapsedMilliseconds} ms");

        var revoke = Stopwatch.StartNew();
        var assignment = (await granted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using var ended = await admin.PostAsJsonAsync($"/api/admin/v1/assignments/{assignment}/end", new { reason = "moved on" });
        Assert.True(ended.IsSuccessStatusCode, await ended.Content.ReadAsStringAsync());
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is { Active: false }, "the revoke (disable) at the vendor");
        output.WriteLine($"revoke: {revoke.ElapsedMilliseconds} ms");
    }

    [PrerequisiteFact]
    public async Task Deliver_WrongCanonicalStringConfigured_DeadLetterAtOnceWithTheVendorsMessage()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        // The vendor signs the body too; this connector leaves it out, so every signature is refused.
        var world = await ExpenseWorldAsync(vendor, new JsonObject
        {
            ["auth"] = new JsonObject { ["appKey"] = ExpenseVendor.AppKey, ["stringToSign"] = new JsonArray("appKey", "timestamp", "nonce", "method", "pathAndQuery") },
        });
        var user = await world.CreateUserAsync("S1");

        await world.GrantAsync(user.Id, world.ViewerRoleId);

        var (rows, _) = await RestWorld.WaitForAsync(() => world.OutboxAsync(user.Id), r => r.Count > 0 && r.All(o => o.Status == OutboxStatus.Dead), "the dead letter");
        Assert.Contains("signature mismatch", rows[0].LastError, StringComparison.Ordinal);
        Assert.Contains(ExpenseVendor.SignatureMismatch.ToString(System.Globalization.CultureInfo.InvariantCulture), rows[0].LastError, StringComparison.Ordinal);
        Assert.Single(await world.AttemptsAsync(user.Id));
        Assert.Empty(vendor.EmployeesByNumber);
    }

    [PrerequisiteFact]
    public async Task Deliver_VendorClockSkewedBeyondFiveMinutes_TimestampRefusedAsPermanent()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        vendor.ClockOffset = TimeSpan.FromMinutes(10);
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("K1");

        await world.GrantAsync(user.Id, world.ViewerRoleId);

        var (rows, _) = await RestWorld.WaitForAsync(() => world.OutboxAsync(user.Id), r => r.Count > 0 && r.All(o => o.Status == OutboxStatus.Dead), "the dead letter");
        Assert.Contains("timestamp outside", rows[0].LastError, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Retry_AfterAServerError_SameRequestFreshNonceAndACapturedRequestReplayedIsRefused()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("N1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the first delivery");
        vendor.InjectFaults(new VendorFault(Status: 500));

        await world.RenameAsync(user.Id, "Renamed once");

        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e?.Name == "Renamed once", "the retried rename");
        var puts = vendor.Requests.Where(r => r.Method == "PUT").ToList();
        Assert.Equal(2, puts.Count);
        Assert.Equal(puts[0].Body, puts[1].Body);
        Assert.Equal(puts[0].Headers["Idempotency-Key"], puts[1].Headers["Idempotency-Key"]);
        Assert.NotEqual(puts[0].Headers["Nonce"], puts[1].Headers["Nonce"]);

        // The vendor's replay protection: the accepted request sent again, byte for byte, is refused.
        using var http = new HttpClient();
        using var replay = new HttpRequestMessage(HttpMethod.Put, new Uri(vendor.BaseUrl, puts[1].PathAndQuery.TrimStart('/'))) { Content = new StringContent(puts[1].Body, System.Text.Encoding.UTF8, "application/json") };
        foreach (var header in new[] { "App-Key", "Timestamp", "Nonce", "Signature" })
        {
            replay.Headers.Add(header, puts[1].Headers[header]);
        }

        var answer = await (await http.SendAsync(replay)).Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(ExpenseVendor.NonceReplayed, (int)answer!["code"]!);
    }

    [PrerequisiteFact]
    public async Task Deliver_Http200WithARetryCode_RetriedThenDelivered()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("B1");
        vendor.AnswerNextWith(50001, "system busy, try again later");

        await world.GrantAsync(user.Id, world.ViewerRoleId);

        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the delivery after the busy answer");
        var (attempts, _) = await RestWorld.WaitForAsync(() => world.AttemptsAsync(user.Id), a => a.Any(x => x.Succeeded), "the successful attempt");
        var busy = Assert.Single(attempts, a => !a.Succeeded);
        Assert.Equal(200, busy.StatusCode);
        Assert.Contains("code 50001: system busy, try again later", busy.Error, StringComparison.Ordinal);
        Assert.Empty(await world.OutboxAsync(user.Id));
    }

    [PrerequisiteFact]
    public async Task Deliver_VendorHoldsANewerVersion_DroppedNotRetriedAndRecordedAsStale()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("V1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the first delivery");
        vendor.HoldVersion(user.EmployeeNumber!, 1000);

        await world.RenameAsync(user.Id, "Too late");

        var (attempts, _) = await RestWorld.WaitForAsync(() => world.AttemptsAsync(user.Id), a => a.Any(x => !x.Succeeded), "the stale attempt");
        var stale = Assert.Single(attempts, a => !a.Succeeded);
        Assert.StartsWith("Stale version", stale.Error, StringComparison.Ordinal);
        Assert.Contains(ExpenseVendor.StaleVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), stale.Error, StringComparison.Ordinal);
        await RestWorld.WaitForAsync(() => world.OutboxAsync(user.Id), r => r.Count == 0, "no row left (neither pending nor dead)");
        await Task.Delay(1000);
        Assert.Equal(attempts.Count, (await world.AttemptsAsync(user.Id)).Count);
        Assert.NotEqual("Too late", vendor.Employee(user.EmployeeNumber!)!.Name);
    }

    [PrerequisiteFact]
    public async Task Status_AfterAStaleVersionDrop_HealthyNotFailing()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("H1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the first delivery");
        vendor.HoldVersion(user.EmployeeNumber!, 1000);
        await world.RenameAsync(user.Id, "Too late");
        var (attempts, _) = await RestWorld.WaitForAsync(() => world.AttemptsAsync(user.Id), a => a.Count > 0 && !a[^1].Succeeded, "the stale attempt, last");
        Assert.StartsWith("Stale version", attempts[^1].Error, StringComparison.Ordinal);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        var status = await admin.GetFromJsonAsync<JsonObject>($"/api/admin/v1/connectors/{world.ConnectorId}/status");

        Assert.Equal("healthy", status!["health"]!.GetValue<string>());
    }

    [PrerequisiteFact]
    public async Task Deliver_IpAllowListRefusesLoopback_DeadLetterWithTheVendorsMessage()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        vendor.RefuseLoopback = true;
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("I1");

        await world.GrantAsync(user.Id, world.ViewerRoleId);

        var (rows, _) = await RestWorld.WaitForAsync(() => world.OutboxAsync(user.Id), r => r.Count > 0 && r.All(o => o.Status == OutboxStatus.Dead), "the dead letter");
        Assert.Contains("is not in this app's IP allow-list", rows[0].LastError, StringComparison.Ordinal);
        Assert.Contains("code 40301", rows[0].LastError, StringComparison.Ordinal);
        Assert.Single(await world.AttemptsAsync(user.Id));
    }

    [PrerequisiteFact]
    public async Task Deliver_VendorLostTheEmployee_ForgetsTheIdAndCreatesAgain()
    {
        await using var vendor = await ExpenseVendor.StartNewAsync();
        var world = await ExpenseWorldAsync(vendor);
        var user = await world.CreateUserAsync("L1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        var (first, _) = await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e is not null, "the first delivery");
        vendor.RemoveBehindBack(user.EmployeeNumber!);

        await world.RenameAsync(user.Id, "Back again");

        var (again, _) = await RestWorld.WaitForAsync(() => vendor.Employee(user.EmployeeNumber!), e => e?.Name == "Back again", "the employee created again");
        Assert.NotEqual(first!.Id, again!.Id);
        await RestWorld.WaitForAsync(() => world.StateAsync(user.Id), s => s?.ExternalId == again.Id, "the new vendor id kept");
        Assert.All(await world.AttemptsAsync(user.Id), a => Assert.True(a.Succeeded, a.Error));
    }

    [PrerequisiteFact]
    public async Task Deliver_TokenExpiresMidRun_OneFreshTokenAndNoFailedDelivery()
    {
        // The tokens die after 2 s while expires_in promises an hour: the connector learns it from the 401.
        await using var vendor = await AttendanceVendor.StartNewAsync(tokenSeconds: 2, advertisedTokenSeconds: 3600);
        var world = await AttendanceWorldAsync(vendor);
        var user = await world.CreateUserAsync("T1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employees.GetValueOrDefault(user.EmployeeNumber!), e => e is not null, "the first delivery");
        var issued = vendor.TokensIssued;
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await world.RenameAsync(user.Id, "After expiry");

        await RestWorld.WaitForAsync(() => vendor.Employees.GetValueOrDefault(user.EmployeeNumber!), e => e?.Name == "After expiry", "the delivery after the token expired");
        Assert.Equal(issued + 1, vendor.TokensIssued);
        Assert.True(vendor.ExpiredTokenRefusals >= 1);
        Assert.All(await world.AttemptsAsync(user.Id), a => Assert.True(a.Succeeded, a.Error));
        Assert.Equal([world.SalesCode, world.EastCode], vendor.DepartmentsCreated);
    }

    [PrerequisiteFact]
    public async Task Deliver_429WithRetryAfter_WaitsThatLongThenDelivers()
    {
        await using var vendor = await AttendanceVendor.StartNewAsync();
        var world = await AttendanceWorldAsync(vendor);
        var user = await world.CreateUserAsync("R1");
        vendor.InjectFaults(new VendorFault(Status: 429, RetryAfterSeconds: 3));

        await world.GrantAsync(user.Id, world.ViewerRoleId);

        await RestWorld.WaitForAsync(() => vendor.Employees.GetValueOrDefault(user.EmployeeNumber!), e => e is not null, "the delivery after the 429");
        var (attempts, _) = await RestWorld.WaitForAsync(() => world.AttemptsAsync(user.Id), a => a.Any(x => x.Succeeded), "the successful attempt");
        var limited = Assert.Single(attempts, a => !a.Succeeded);
        Assert.Equal(429, limited.StatusCode);
        var next = attempts.First(a => a.Id > limited.Id);
        Assert.True(next.At - limited.At >= TimeSpan.FromSeconds(2.9), $"retried after {(next.At - limited.At).TotalSeconds:0.0} s, Retry-After said 3 s");
    }

    [PrerequisiteFact]
    public async Task Retry_AnswerLostAfterTheVendorApplied_SameIdempotencyKeyAndTheVersionAppliedOnce()
    {
        await using var vendor = await AttendanceVendor.StartNewAsync();
        var world = await AttendanceWorldAsync(vendor);
        var user = await world.CreateUserAsync("D1");
        await world.GrantAsync(user.Id, world.ViewerRoleId);
        await RestWorld.WaitForAsync(() => vendor.Employees.GetValueOrDefault(user.EmployeeNumber!), e => e is not null, "the first delivery");
        // Applied at once, answered after the 2 s attempt timeout: IdentityHub sees a timeout and sends the same version again.
        vendor.InjectFaults(new VendorFault(AnswerDelayMilliseconds: 4000));

        await world.RenameAsync(user.Id, "Once only");

        var (attempts, _) = await RestWorld.WaitForAsync(() => world.AttemptsAsync(user.Id), a => a.Count(x => x.Succeeded) >= 2 && a.Any(x => !x.Succeeded), "the retry after the lost answer");
        var version = attempts[^1].Version;
        Assert.Single(vendor.Applied, a => a.EmployeeNumber == user.EmployeeNumber && a.Version == version);
        Assert.True(vendor.IdempotentReplays >= 1, "the retry was answered from the vendor's idempotency store");
        Assert.Equal("Once only", vendor.Employees[user.EmployeeNumber!].Name);
    }

    private async Task<RestWorld> ExpenseWorldAsync(ExpenseVendor vendor, JsonObject? extra = null)
    {
        var world = await RestWorld.CreateAsync(factory, "expense", RestWorld.ExpenseSettings(vendor, extra), ExpenseVendor.AppSecret);
        _worlds.Add(world);
        return world;
    }

    private async Task<RestWorld> AttendanceWorldAsync(AttendanceVendor vendor)
    {
        var world = await RestWorld.CreateAsync(factory, "attendance", RestWorld.AttendanceSettings(vendor), AttendanceVendor.ClientSecret);
        _worlds.Add(world);
        return world;
    }
}

public sealed class SqliteRestConnectorTests(SqliteFactory<RestFactorySettings> factory, ITestOutputHelper output)
    : RestConnectorTests<SqliteFactory<RestFactorySettings>>(factory, output);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRestConnectorTests(PostgreSqlFactory<RestFactorySettings> factory, ITestOutputHelper output)
    : RestConnectorTests<PostgreSqlFactory<RestFactorySettings>>(factory, output);

using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Provisioning;

/// <summary>
/// Issue 13's fault run for the REST connector, modelled on <see cref="ScimProofTests"/>: real IdentityHub processes and the
/// i人事-style attendance stand-in (short-lived OAuth tokens, Idempotency-Key de-duplication). IdentityHub is killed (SIGKILL)
/// while deliveries hang at the vendor; while it is down the vendor is set to answer 500s, then 429s with Retry-After, then to
/// hang past the attempt timeout, then to apply and lose its answer; changes are made; a second process takes over. Every
/// precondition is waited for as a state (rows pending, requests in flight), never as a time. Afterwards the drift API reports
/// zero drift, every employee is at our last version and name, no version was applied twice and none arrived backwards.
/// </summary>
public abstract class RestProofTests(bool postgreSql)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [PrerequisiteFact]
    public async Task Dispatch_KilledMidDeliveryThenVendorFailing_ZeroDriftNoVersionTwiceNoneBackwards()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var vendor = await AttendanceVendor.StartNewAsync(tokenSeconds: 5);
        var server = await database.StartServerAsync("rest-a");
        Guid connectorId;
        List<string> users;
        try
        {
            using var admin = await ProvisioningDatabase.AdminApiAsync(server);
            var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Attendance");
            connectorId = await CreateRestConnectorAsync(admin, applicationId, vendor);
            users = await database.CreateUsersAsync(30, "rest", applicationId);
            await WaitUntilAsync(() => Task.FromResult(vendor.Employees.Count == users.Count), "every user at the vendor");

            // Precondition for the kill: the connector paused, a change per user written and pending, then deliveries hanging at the vendor.
            await PostAsync(admin, $"api/admin/v1/connectors/{connectorId}/pause");
            await database.RenameAllAsync(users, "Round 2 (killed)");
            Assert.True(await ProvisioningProofTests.PendingAsync(database, connectorId) >= users.Count, "Every rename is pending while the connector is paused.");
            vendor.InjectFaults([.. Enumerable.Repeat(new VendorFault(DelayMilliseconds: 60_000), 8)]);
            var before = vendor.Requests.Count;
            await PostAsync(admin, $"api/admin/v1/connectors/{connectorId}/resume");
            await WaitUntilAsync(() => Task.FromResult(vendor.Requests.Skip(before).Any(r => r.Method == "PUT")), "a delivery in flight at the vendor");
        }
        finally
        {
            // kill -9: ServerProcess disposes with Process.Kill (SIGKILL), no graceful shutdown.
            await server.DisposeAsync();
        }

        Assert.True(await ProvisioningProofTests.PendingAsync(database, connectorId) > 0, "The kill landed before the queue drained.");
        vendor.ClearFaults();
        vendor.InjectFaults(
            new VendorFault(Status: 500), new VendorFault(Status: 500), new VendorFault(Status: 503),
            new VendorFault(Status: 429, RetryAfterSeconds: 1), new VendorFault(Status: 429, RetryAfterSeconds: 1),
            new VendorFault(DelayMilliseconds: 3_000), new VendorFault(DelayMilliseconds: 3_000),
            new VendorFault(AnswerDelayMilliseconds: 3_000), new VendorFault(AnswerDelayMilliseconds: 3_000));
        await database.RenameAllAsync(users, "Round 3 (after the kill)");

        await using (var restarted = await database.StartServerAsync("rest-b"))
        {
            await ProvisioningProofTests.WaitForDrainAsync(database, connectorId);
            Assert.Equal(0, vendor.PendingFaults);
            using var admin = await ProvisioningDatabase.AdminApiAsync(restarted);
            var drift = await admin.GetFromJsonAsync<JsonElement>($"api/admin/v1/connectors/{connectorId}/drift?refresh=true");
            Assert.True(drift.GetProperty("inSync").GetBoolean(), drift.ToString());
        }

        Assert.Empty(vendor.Backwards);
        Assert.All(vendor.Applied.GroupBy(a => a), g => Assert.Single(g));
        var versions = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().ConnectorUserStates.AsNoTracking()
            .Where(c => c.ConnectorId == connectorId).ToDictionaryAsync(c => c.UserId, c => c.Version));
        var numbers = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().Users.AsNoTracking()
            .Where(u => users.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.EmployeeNumber!));
        Assert.Equal(users.Count, vendor.Employees.Count);
        foreach (var userId in users)
        {
            var employee = vendor.Employees[numbers[userId]];
            Assert.Equal("Round 3 (after the kill)", employee.Name);
            Assert.Equal(versions[userId], employee.Version);
        }
    }

    private static async Task<Guid> CreateRestConnectorAsync(HttpClient admin, Guid applicationId, AttendanceVendor vendor)
    {
        var connector = await admin.PostAsJsonAsync($"api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "rest", name = "attendance", preset = "attendance",
            settings = new JsonObject
            {
                ["baseUrl"] = vendor.ApiBaseUrl.AbsoluteUri,
                ["auth"] = new JsonObject { ["tokenUrl"] = vendor.TokenUrl.AbsoluteUri, ["clientId"] = AttendanceVendor.ClientId },
            },
            secret = AttendanceVendor.ClientSecret,
        });
        var body = await connector.Content.ReadAsStringAsync();
        Assert.True(connector.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    private static async Task PostAsync(HttpClient admin, string path)
    {
        using var response = await admin.PostAsync(path, null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, $"Waited {Patience} for {what}.");
            await Task.Delay(100);
        }
    }
}

public sealed class SqliteRestProofTests() : RestProofTests(postgreSql: false);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRestProofTests() : RestProofTests(postgreSql: true);

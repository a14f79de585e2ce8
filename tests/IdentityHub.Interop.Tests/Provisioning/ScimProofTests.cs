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
/// Issue 7 proof (c) against a real SCIM server (scimmy) and real IdentityHub processes: the server killed (SIGKILL)
/// in the middle of dispatching, the target refusing connections while changes are made and the server comes back,
/// then answering 500 and 429 with Retry-After. Afterwards the drift API reports zero drift, the target never saw a
/// user's version go backwards, and repeated deliveries did no harm: one user per employee number, at our last version.
/// </summary>
public abstract class ScimProofTests(bool postgreSql)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [PrerequisiteFact]
    public async Task Dispatch_ServerKilledThenTargetRefusingAndFailing_ZeroDriftNoVersionBackOneUserEach()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var scim = await ScimTestServer.StartAsync(persistent: true);
        var server = await database.StartServerAsync("node-a", ProvisioningDatabase.HeldTargetSettings);
        Guid connectorId;
        List<string> users;
        try
        {
            using var admin = await ProvisioningDatabase.AdminApiAsync(server);
            var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Expense");
            connectorId = await ProvisioningDatabase.CreateScimConnectorAsync(admin, applicationId, scim, ",\"versionExtension\":true");
            // Arranged, not raced: paused while the users are written, so all of them are queued when dispatching starts;
            // the target answers 20 requests (a new user takes two: the userName look-up and the POST), then holds the rest.
            await ProvisioningDatabase.PauseAsync(admin, connectorId, paused: true);
            users = await database.CreateUsersAsync(40, "scim", applicationId);
            Assert.True(await ProvisioningProofTests.PendingAsync(database, connectorId) >= users.Count, "Every user's rows are queued while the connector is paused.");
            await scim.HoldAsync(after: 20);
            await ProvisioningDatabase.PauseAsync(admin, connectorId, paused: false);
            await WaitUntilAsync(
                async () => await scim.StoreAsync() is var store && store.GetProperty("users").GetArrayLength() > 0 && store.GetProperty("traffic").GetProperty("held").GetInt32() > 0,
                "users provisioned and the next requests held in flight");
        }
        finally
        {
            // kill -9 while calls are in flight at the target: ServerProcess disposes with Process.Kill (SIGKILL), no graceful shutdown.
            await server.DisposeAsync();
        }

        Assert.True(await ProvisioningProofTests.PendingAsync(database, connectorId) > 0, "The kill landed mid-batch: users held in flight and users never sent are still queued.");

        // Connection refused: the target is down while users change and while the restarted server tries to deliver.
        await scim.StopAsync();
        await database.RenameAllAsync(users, "Round 2 (target down)");
        await using (var restarted = await database.StartServerAsync("node-a-restarted"))
        {
            await WaitUntilAsync(async () => await RefusedAttemptsAsync(database, connectorId) > 0, "a delivery refused by the stopped target");
            // A new process: the store is kept (persistent), the hold is not.
            await scim.StartAgainAsync();
            await scim.InjectFaultsAsync(new JsonObject { ["status"] = 500 }, new JsonObject { ["status"] = 503 }, new JsonObject { ["status"] = 429, ["retryAfter"] = 1 });
            await ProvisioningProofTests.WaitForDrainAsync(database, connectorId);

            using var admin = await ProvisioningDatabase.AdminApiAsync(restarted);
            var drift = await admin.GetFromJsonAsync<JsonElement>($"api/admin/v1/connectors/{connectorId}/drift?refresh=true");
            Assert.True(drift.GetProperty("missing").GetArrayLength() == 0 && drift.GetProperty("extra").GetArrayLength() == 0
                && drift.GetProperty("different").GetArrayLength() == 0, drift.ToString());
        }

        var store = await scim.StoreAsync();
        Assert.Empty(store.GetProperty("backwards").EnumerateArray());
        var stored = store.GetProperty("users").EnumerateArray().ToList();
        Assert.Equal(users.Count, stored.Count);
        Assert.All(stored.GroupBy(u => u.GetProperty("userName").GetString()), g => Assert.Single(g));
        var versions = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().ConnectorUserStates.AsNoTracking()
            .Where(c => c.ConnectorId == connectorId).ToDictionaryAsync(c => c.UserId, c => c.Version));
        foreach (var userId in users)
        {
            var user = Assert.Single(stored, u => u.GetProperty("externalId").GetString() == userId);
            Assert.Equal("Round 2 (target down)", user.GetProperty("displayName").GetString());
            Assert.Equal(versions[userId], store.GetProperty("versions").GetProperty(userId).GetInt64());
        }
    }

    /// <summary>Failed attempts without a status: the connection was refused (or timed out) before any answer.</summary>
    private static Task<int> RefusedAttemptsAsync(ProvisioningDatabase database, Guid connectorId) =>
        database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().DeliveryAttempts
            .CountAsync(a => a.ConnectorId == connectorId && !a.Succeeded && a.StatusCode == null && a.Error!.Contains("refused")));

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

[Requires(Prerequisite.Node)]
public sealed class SqliteScimProofTests() : ScimProofTests(postgreSql: false);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlScimProofTests() : ScimProofTests(postgreSql: true);

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Provisioning;

/// <summary>
/// Issue 7 proofs against real IdentityHub processes and the Node receiver that verifies every signature with the
/// `standardwebhooks` package: (b) + (c) a server killed (SIGKILL) in the middle of dispatching and restarted loses
/// nothing and never goes back a version; (d) two dispatchers on one PostgreSQL never deliver one user twice at once.
/// </summary>
public abstract class ProvisioningProofTests(bool postgreSql)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [PrerequisiteFact]
    public async Task Dispatch_ServerKilledMidBatchAndRestarted_EveryLatestStateArrivesAndNoVersionGoesBack()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var receiver = await WebhookReceiver.StartAsync();
        var server = await database.StartServerAsync("node-a", ProvisioningDatabase.HeldTargetSettings);
        Guid applicationId;
        Guid connectorId;
        List<string> users;
        try
        {
            using var admin = await ProvisioningDatabase.AdminApiAsync(server);
            (applicationId, connectorId, var secret) = await ProvisioningDatabase.CreateWebhookConnectorAsync(admin, receiver.HooksUrl);
            await receiver.SetSecretAsync(secret);
            // Arranged, not raced: the connector is paused while the work is written, so the whole batch is queued when
            // dispatching starts, and the target answers 20 messages and then holds every later one in flight.
            await ProvisioningDatabase.PauseAsync(admin, connectorId, paused: true);
            users = await database.CreateUsersAsync(60, "crash", applicationId);
            await database.RenameAllAsync(users, "Round 1");
            Assert.True(await PendingAsync(database, connectorId) >= users.Count, "Every user's rows are queued while the connector is paused.");
            await receiver.HoldAsync(after: 20);
            await ProvisioningDatabase.PauseAsync(admin, connectorId, paused: false);
            await receiver.WaitForAsync(s => s.GetProperty("accepted").GetInt32() >= 20 && s.GetProperty("held").GetInt32() >= 1, Patience);
        }
        finally
        {
            // kill -9 while deliveries are in flight at the target: ServerProcess disposes with Process.Kill (SIGKILL), no graceful shutdown.
            await server.DisposeAsync();
        }

        Assert.True(await PendingAsync(database, connectorId) > 0, "The kill landed mid-batch: users held in flight and users never sent are still queued.");
        // The held calls died with the server; the target answers normally from now on.
        await receiver.ReleaseAsync();
        await database.RenameAllAsync(users, "Round 2 (while down)");

        await using (await database.StartServerAsync("node-a-restarted"))
        {
            await WaitForDrainAsync(database, connectorId);
        }

        var state = await receiver.StateAsync();
        await AssertReceiverMatchesAsync(database, connectorId, users, state, "Round 2 (while down)");
    }

    internal static async Task<int> PendingAsync(ProvisioningDatabase database, Guid connectorId) =>
        await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().Outbox.CountAsync(o => o.ConnectorId == connectorId));

    internal static async Task WaitForDrainAsync(ProvisioningDatabase database, Guid connectorId)
    {
        var clock = Stopwatch.StartNew();
        int pending;
        while ((pending = await PendingAsync(database, connectorId)) > 0)
        {
            Assert.True(clock.Elapsed < Patience, $"The outbox did not drain in {Patience}: {pending} row(s) left.");
            await Task.Delay(200);
        }
    }

    /// <summary>Reconciliation for webhooks: the receiver's final state of every user is ours, at our last version.</summary>
    protected static async Task AssertReceiverMatchesAsync(ProvisioningDatabase database, Guid connectorId, List<string> users, JsonElement state, string displayName)
    {
        Assert.Equal(0, state.GetProperty("badSignatures").GetInt32());
        Assert.Empty(state.GetProperty("backwards").EnumerateArray());
        Assert.Empty(state.GetProperty("overlaps").EnumerateArray());
        var versions = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().ConnectorUserStates.AsNoTracking()
            .Where(c => c.ConnectorId == connectorId).ToDictionaryAsync(c => c.UserId, c => c.Version));
        foreach (var userId in users)
        {
            Assert.True(state.GetProperty("users").TryGetProperty(userId, out var received), $"User {userId} never arrived.");
            Assert.Equal(displayName, received.GetProperty("data").GetProperty("displayName").GetString());
            Assert.Equal(versions[userId], received.GetProperty("version").GetInt64());
        }
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteProvisioningProofTests() : ProvisioningProofTests(postgreSql: false);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlProvisioningProofTests() : ProvisioningProofTests(postgreSql: true)
{
    [PrerequisiteFact]
    public async Task Dispatch_TwoServersOnOnePostgreSql_NeverDeliverOneUserTwiceAtOnce()
    {
        await using var database = new ProvisioningDatabase(postgreSql: true);
        await using var receiver = await WebhookReceiver.StartAsync();
        // Long enough that two deliveries of one user, if ever sent together, would overlap at the receiver.
        await receiver.SetDelayAsync(60);
        await using var first = await database.StartServerAsync("node-a");
        await using var second = await database.StartServerAsync("node-b");
        Guid applicationId;
        Guid connectorId;
        using (var admin = await ProvisioningDatabase.AdminApiAsync(first))
        {
            (applicationId, connectorId, var secret) = await ProvisioningDatabase.CreateWebhookConnectorAsync(admin, receiver.HooksUrl);
            await receiver.SetSecretAsync(secret);
        }

        var claimants = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        using var watching = new CancellationTokenSource();
        var watcher = WatchClaimsAsync(database, connectorId, claimants, watching.Token);
        var users = await database.CreateUsersAsync(80, "pair", applicationId);
        for (var round = 1; round <= 3; round++)
        {
            await database.RenameAllAsync(users, $"Round {round}");
        }

        await WaitForDrainAsync(database, connectorId);
        await watching.CancelAsync();
        await watcher;

        var state = await receiver.StateAsync();
        await AssertReceiverMatchesAsync(database, connectorId, users, state, "Round 3");
        Assert.Contains("node-a", claimants.Keys);
        Assert.Contains("node-b", claimants.Keys);
    }

    /// <summary>Samples which nodes hold claims, to show both dispatchers shared the work.</summary>
    private static async Task WatchClaimsAsync(ProvisioningDatabase database, Guid connectorId, ConcurrentDictionary<string, int> claimants, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var holders = await database.RunAsync(s => s.GetRequiredService<IdentityHubDbContext>().Outbox.AsNoTracking()
                .Where(o => o.ConnectorId == connectorId && o.ClaimedBy != null).Select(o => o.ClaimedBy!).Distinct().ToListAsync(CancellationToken.None));
            foreach (var holder in holders)
            {
                claimants.AddOrUpdate(holder.Split('/')[0], 1, (_, n) => n + 1);
            }

            try
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

using System.Diagnostics;
using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Xunit.Abstractions;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// Connectors are independent: a target that hangs holds only its own connector's slots, and no batch barrier makes
/// another connector's change wait for it. Proven by order, not by speed: the other connector's change arrives while
/// every delivery to the hanging target is still in flight (the target holds them; a delivery may wait a minute here).
/// </summary>
public abstract class DispatchLanesTests<TFactory>(TFactory factory, ITestOutputHelper output) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Provisioning:MaxParallelPerConnector's default: the hanging connector's share of the slots.</summary>
    private const int PerConnector = 4;

    [PrerequisiteFact]
    public async Task Deliver_OneTargetHoldsEveryDeliveryWithManyUsersQueued_AnotherConnectorsChangeArrivesWhileItStillHolds()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var hanging = await WebhookReceiver.StartAsync();
        // Every message is held in flight until the end of the test (HeldTargets: an attempt may take a minute).
        await hanging.HoldAsync();
        var (hangingApplicationId, hangingId, hangingSecret) = await driver.CreateWebhookConnectorAsync(hanging.HooksUrl);
        await hanging.SetSecretAsync(hangingSecret);
        for (var i = 0; i < 30; i++)
        {
            await driver.CreateUserWithAccessAsync(hangingApplicationId);
        }

        await using var healthy = await WebhookReceiver.StartAsync();
        var (healthyApplicationId, _, healthySecret) = await driver.CreateWebhookConnectorAsync(healthy.HooksUrl);
        await healthy.SetSecretAsync(healthySecret);
        // Its role exists before the grant.
        await driver.CreateUserWithAccessAsync(healthyApplicationId);
        // The hanging connector's slots are all taken by deliveries the target holds, and its other users are still queued.
        await hanging.WaitForAsync(s => s.GetProperty("held").GetInt32() >= PerConnector, Patience);

        try
        {
            var userId = await driver.CreateUserAsync();
            var clock = Stopwatch.StartNew();
            await driver.GrantAsync(userId, healthyApplicationId);
            await healthy.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
            output.WriteLine($"the other connector's change arrived {clock.Elapsed.TotalMilliseconds:0} ms after the grant started");

            // When it arrived, not one delivery to the hanging target had ended: none accepted, none recorded, all still held.
            var stalled = await hanging.StateAsync();
            Assert.Equal(PerConnector, stalled.GetProperty("held").GetInt32());
            Assert.Equal(0, stalled.GetProperty("accepted").GetInt32());
            Assert.Equal(0, await driver.ReadAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == hangingId)));
            Assert.True(await driver.ReadAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == hangingId && o.Status == OutboxStatus.Pending)) >= 30);
            // The hanging target never had more deliveries at once than its own connector's share.
            Assert.InRange(stalled.GetProperty("maxInFlight").GetInt32(), 1, PerConnector);
        }
        finally
        {
            await hanging.ReleaseAsync();
        }
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteDispatchLanesTests(SqliteFactory<HeldTargets> factory, ITestOutputHelper output)
    : DispatchLanesTests<SqliteFactory<HeldTargets>>(factory, output);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDispatchLanesTests(PostgreSqlFactory<HeldTargets> factory, ITestOutputHelper output)
    : DispatchLanesTests<PostgreSqlFactory<HeldTargets>>(factory, output);

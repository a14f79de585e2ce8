using System.Diagnostics;
using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// Connectors are independent: a target that hangs holds only its own connector's slots, and no batch barrier makes
/// another connector's change wait for it.
/// </summary>
public abstract class DispatchLanesTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task Deliver_OneTargetHangsWithManyUsersQueued_AnotherConnectorsChangeArrivesWithinOneSecond()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var hanging = await WebhookReceiver.StartAsync();
        // Every message is held 3 s, longer than AttemptTimeout (1 s here): each delivery to this target times out.
        await hanging.SetDelayAsync(3000);
        var (hangingApplicationId, hangingId, hangingSecret) = await driver.CreateWebhookConnectorAsync(hanging.HooksUrl);
        await hanging.SetSecretAsync(hangingSecret);
        for (var i = 0; i < 30; i++)
        {
            await driver.CreateUserWithAccessAsync(hangingApplicationId);
        }

        await using var healthy = await WebhookReceiver.StartAsync();
        var (healthyApplicationId, _, healthySecret) = await driver.CreateWebhookConnectorAsync(healthy.HooksUrl);
        await healthy.SetSecretAsync(healthySecret);
        // Its role exists before the timed grant.
        await driver.CreateUserWithAccessAsync(healthyApplicationId);
        // The hanging target's users are in flight and still queued when the change comes.
        var stalled = await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == hangingId && !a.Succeeded), n => n >= 4, Patience);
        Assert.True(stalled >= 4, "the hanging target's deliveries should be timing out");
        Assert.True(await driver.ReadAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == hangingId && o.Status == OutboxStatus.Pending)) >= 20);

        var userId = await driver.CreateUserAsync();
        var clock = Stopwatch.StartNew();
        await driver.GrantAsync(userId, healthyApplicationId);
        while (!ProvisioningDriver.HasUser(await healthy.StateAsync(), userId) && clock.Elapsed < Patience)
        {
            await Task.Delay(20);
        }

        var elapsed = clock.Elapsed;
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"the other connector's change arrived after {elapsed.TotalMilliseconds:0} ms");
        // The hanging target never had more deliveries at once than its own connector's share.
        Assert.InRange((await hanging.StateAsync()).GetProperty("maxInFlight").GetInt32(), 1, 4);
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteDispatchLanesTests(SqliteFactory<FastProvisioning> factory) : DispatchLanesTests<SqliteFactory<FastProvisioning>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDispatchLanesTests(PostgreSqlFactory<FastProvisioning> factory) : DispatchLanesTests<PostgreSqlFactory<FastProvisioning>>(factory);

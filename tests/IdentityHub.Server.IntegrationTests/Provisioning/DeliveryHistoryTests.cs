using IdentityHub.Data.Provisioning;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>Provisioning:HistoryRetention (3 s here): the dispatcher prunes old delivery attempts and superseded reconciliation runs.</summary>
public abstract class DeliveryHistoryTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [PrerequisiteFact]
    public async Task Dispatcher_HistoryOlderThanTheRetention_IsPrunedButTheLatestReportAndQueuedRowsStay()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var delivered = await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == connectorId && a.UserId == userId), n => n == 1, Patience);
        Assert.Equal(1, delivered);
        var older = Guid.NewGuid();
        var latest = Guid.NewGuid();
        await driver.ReadAsync(async db =>
        {
            var now = DateTimeOffset.UtcNow;
            db.ReconciliationRuns.Add(new ReconciliationRun { Id = older, ConnectorId = connectorId, Kind = ReconciliationKind.Drift, StartedAt = now.AddSeconds(-2), RequestedBy = "test", Report = "{}" });
            db.ReconciliationRuns.Add(new ReconciliationRun { Id = latest, ConnectorId = connectorId, Kind = ReconciliationKind.Drift, StartedAt = now.AddSeconds(-1), RequestedBy = "test", Report = "{}" });
            // Work, not history: a queued row is never pruned, however old.
            db.Outbox.Add(new OutboxEntry { ConnectorId = connectorId, UserId = userId, Change = "test.old", CreatedAt = now.AddDays(-60), DueAt = now.AddDays(1), Status = OutboxStatus.Pending });
            return await db.SaveChangesAsync();
        });

        var attempts = await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == connectorId), n => n == 0, Patience);
        var runs = await driver.WaitForAsync(db => db.ReconciliationRuns.Where(r => r.ConnectorId == connectorId).Select(r => r.Id).ToListAsync(), r => r.Count == 1, Patience);

        Assert.Equal(0, attempts);
        Assert.Equal([latest], runs);
        Assert.Equal(1, await driver.ReadAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.Change == "test.old")));
    }
}

/// <summary>History is kept 3 s, so pruning is seen within seconds.</summary>
public sealed class ShortHistory : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        FastProvisioning.Apply(builder);
        builder.UseSetting("Provisioning:HistoryRetention", "00:00:03");
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteDeliveryHistoryTests(SqliteFactory<ShortHistory> factory) : DeliveryHistoryTests<SqliteFactory<ShortHistory>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDeliveryHistoryTests(PostgreSqlFactory<ShortHistory> factory) : DeliveryHistoryTests<PostgreSqlFactory<ShortHistory>>(factory);

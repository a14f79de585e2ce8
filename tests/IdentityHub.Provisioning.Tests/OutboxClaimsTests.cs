using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Tests;

/// <summary>
/// Claiming due rows, on the database provider's own locking (no dispatcher running): a user's due rows go out as one
/// delivery (coalescing), a user with a live claim is not claimed twice, and paused connectors or rows not yet due wait.
/// </summary>
public abstract class OutboxClaimsTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : ProvisioningDatabase
{
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(2);

    [PrerequisiteFact]
    public async Task ClaimAsync_ThreeDueRowsOfOneUser_OnePairCarryingEveryRowAndChange()
    {
        var connector = await ConnectorAsync();
        var user = "u-" + Guid.NewGuid().ToString("N")[..8];
        var rows = new[] { await QueueAsync(connector, user, "user.created"), await QueueAsync(connector, user, "user.updated"), await QueueAsync(connector, user, "user.updated") };

        var claimed = await ClaimAsync(connector);

        var pair = Assert.Single(claimed, p => p.UserId == user);
        Assert.Equal(rows, pair.RowIds);
        Assert.Equal(["user.created", "user.updated"], pair.Changes);
    }

    [PrerequisiteFact]
    public async Task ClaimAsync_UserAlreadyClaimed_NotClaimedAgainUntilReleased()
    {
        var connector = await ConnectorAsync();
        var user = "u-" + Guid.NewGuid().ToString("N")[..8];
        await QueueAsync(connector, user, "user.created");
        var first = Assert.Single(await ClaimAsync(connector));
        // A later change of the same user arrives while the first delivery is in flight.
        await QueueAsync(connector, user, "user.updated");

        Assert.Empty(await ClaimAsync(connector));
        await database.RunAsync(s => ActivatorUtilities.CreateInstance<OutboxClaims>(s).ReleaseAsync(first, CancellationToken.None));
        Assert.Equal(2, Assert.Single(await ClaimAsync(connector)).RowIds.Count);
    }

    [PrerequisiteTheory]
    [InlineData(true, 0)]
    [InlineData(false, 60)]
    public async Task ClaimAsync_PausedConnectorOrRowNotDue_ClaimsNothing(bool paused, int dueInSeconds)
    {
        var connector = await ConnectorAsync(paused);
        await QueueAsync(connector, "u-" + Guid.NewGuid().ToString("N")[..8], "user.created", TimeSpan.FromSeconds(dueInSeconds));

        Assert.Empty(await ClaimAsync(connector));
    }

    private async Task<Guid> ConnectorAsync(bool paused = false)
    {
        var application = await database.CreateApplicationAsync();
        var connector = await database.AddConnectorAsync(application.Id, ConnectorKind.Webhook, """{"url":"https://hooks.example/x"}""");
        if (paused)
        {
            await database.ReadAsync(db => db.Connectors.Where(c => c.Id == connector.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Paused, true)));
        }

        return connector.Id;
    }

    private Task<long> QueueAsync(Guid connectorId, string userId, string change, TimeSpan? dueIn = null) => database.RunAsync(async s =>
    {
        var db = s.GetRequiredService<Data.IdentityHubDbContext>();
        var now = DateTimeOffset.UtcNow;
        var row = new OutboxEntry { ConnectorId = connectorId, UserId = userId, Change = change, CreatedAt = now, DueAt = now + (dueIn ?? TimeSpan.Zero), Status = OutboxStatus.Pending };
        db.Outbox.Add(row);
        await db.SaveChangesAsync();
        return row.Id;
    });

    private Task<IReadOnlyList<ClaimedPair>> ClaimAsync(Guid connectorId) => database.ClaimAsync(connectorId, ClaimTimeout);
}

public sealed class SqliteOutboxClaimsTests(SqliteProvisioningDatabase database) : OutboxClaimsTests<SqliteProvisioningDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlOutboxClaimsTests(PostgreSqlProvisioningDatabase database) : OutboxClaimsTests<PostgreSqlProvisioningDatabase>(database);

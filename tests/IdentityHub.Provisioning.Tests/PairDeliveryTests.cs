using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Tests;

/// <summary>
/// One delivery reads the user's pending rows, then their state: a change committed between the two reads (arranged with
/// a command hook, not raced) must go out as the next version, not inside this one and then a second time under the same
/// version. Delivered to the webhook receiver (tests/interop), which counts versions it saw twice.
/// </summary>
public abstract class PairDeliveryTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : ProvisioningDatabase
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [PrerequisiteFact]
    public async Task Deliver_ChangeCommittedBetweenReadingTheRowsAndTheState_GoesOutAsTheNextVersionNotTheSameOneTwice()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var application = await database.CreateApplicationAsync();
        var role = await database.CreateRoleAsync(application.Id, (await database.CreatePermissionAsync(application.Id)).Id);
        using var settings = JsonDocument.Parse(JsonSerializer.Serialize(new { url = receiver.HooksUrl }));
        var created = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(
            application.Id, new ConnectorInput("webhook", ProvisioningDatabase.NewCode("hooks"), settings.RootElement.Clone(), null), CancellationToken.None));
        var connectorId = created.Connector.Id;
        await receiver.SetSecretAsync(created.GeneratedSecret!);
        var userId = await database.CreateUserAsync();
        await database.GrantAsync(userId, role.Id);
        await DeliverAllAsync(connectorId);
        await receiver.WaitForAsync(s => Versions(s, userId).SequenceEqual([1L]), Patience);

        await RenameAsync(userId, "First");
        var users = '"' + await database.ReadAsync(db => Task.FromResult(db.Model.FindEntityType(typeof(UserAccount))!.GetTableName()!)) + '"';
        // Just before the delivery reads the user (its rows are read by then), the second rename commits.
        database.Hook.Arm(sql => sql.Contains(users, StringComparison.Ordinal), () => RenameAsync(userId, "Second"));
        await DeliverAllAsync(connectorId);

        Assert.True(database.Hook.Fired, "The second rename was never committed during the delivery.");
        var state = await receiver.WaitForAsync(
            s => s.GetProperty("users").TryGetProperty(userId, out var u) && u.GetProperty("data").GetProperty("displayName").GetString() == "Second", Patience);
        Assert.Equal([1L, 2L, 3L], Versions(state, userId));
        Assert.Equal(0, state.GetProperty("duplicates").GetInt32());
        var attempts = await database.ReadAsync(db => db.DeliveryAttempts.AsNoTracking()
            .Where(a => a.ConnectorId == connectorId && a.UserId == userId).OrderBy(a => a.Id).Select(a => a.Version).ToListAsync());
        Assert.Equal([1L, 2L, 3L], attempts);
    }

    [Fact]
    public async Task Deliver_TargetOnAnAddressTheOutboundSettingsRefuse_RecordsAFailedAttemptNamingTheAddressAndKeepsTheRowForRetry()
    {
        var application = await database.CreateApplicationAsync();
        var role = await database.CreateRoleAsync(application.Id, (await database.CreatePermissionAsync(application.Id)).Id);
        // Nothing listens there, and nothing is tried: the refusal comes before any connection (and before TLS).
        using var settings = JsonDocument.Parse("""{"url":"https://10.1.2.3:9/hooks"}""");
        var connectorId = (await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(
            application.Id, new ConnectorInput("webhook", ProvisioningDatabase.NewCode("hooks"), settings.RootElement.Clone(), null), CancellationToken.None))).Connector.Id;
        var userId = await database.CreateUserAsync();
        await database.GrantAsync(userId, role.Id);

        foreach (var pair in await database.ClaimAsync(connectorId, TimeSpan.FromMinutes(2)))
        {
            await database.RunAsync(s => s.GetRequiredService<PairDelivery>().DeliverAsync(pair, CancellationToken.None));
        }

        var attempt = await database.ReadAsync(db => db.DeliveryAttempts.AsNoTracking().SingleAsync(a => a.ConnectorId == connectorId && a.UserId == userId));
        Assert.False(attempt.Succeeded);
        Assert.Contains("address 10.1.2.3 not allowed by Outbound settings", attempt.Error, StringComparison.Ordinal);
        // Retried like any failure: the rows stay pending with the attempt counted, due again later.
        var rows = await database.ReadAsync(db => db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId && o.UserId == userId).ToListAsync());
        Assert.NotEmpty(rows);
        Assert.All(rows, row => Assert.Equal(Data.Provisioning.OutboxStatus.Pending, row.Status));
        Assert.Contains(rows, row => row.Attempts == 1 && row.LastError!.Contains("address 10.1.2.3 not allowed by Outbound settings", StringComparison.Ordinal));
    }

    [PrerequisiteFact]
    public async Task DeliverBatch_TargetRefusesTheFirstUser_TheOthersAreSettledAndTheRefusedOneIsRetriedUnderTheSameVersion()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (connectorId, userIds) = await BatchOfUsersAsync(receiver, 3);
        var pairs = await database.ClaimAsync(connectorId, TimeSpan.FromMinutes(2));
        Assert.Equal(3, pairs.Count);
        // The first message of the batch is refused for a while; the two after it are accepted.
        await receiver.SetFaultsAsync(new { status = 503 });

        var results = await database.RunAsync(s => s.GetRequiredService<PairDelivery>().DeliverAsync(pairs, CancellationToken.None));

        Assert.All(results, r => Assert.True(r.Attempted));
        var refused = pairs[0].UserId;
        var state = await receiver.WaitForAsync(s => pairs.Skip(1).All(p => Versions(s, p.UserId).SequenceEqual([1L])), Patience);
        Assert.Empty(Versions(state, refused));
        var rows = await database.ReadAsync(db => db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId).ToListAsync());
        var kept = Assert.Single(rows);
        Assert.Equal((refused, 1, Data.Provisioning.OutboxStatus.Pending, (string?)null), (kept.UserId, kept.Attempts, kept.Status, kept.ClaimedBy));

        // Past its backoff (made due now: the receiver refuses signatures from a clock moved ahead) the refused user goes
        // out alone, with the version its first attempt fixed.
        await database.RunAsync(s => s.GetRequiredService<Data.IdentityHubDbContext>().Outbox.Where(o => o.Id == kept.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(o => o.DueAt, DateTimeOffset.UtcNow.AddSeconds(-1))));
        await DeliverAllAsync(connectorId);

        state = await receiver.WaitForAsync(s => Versions(s, refused).SequenceEqual([1L]), Patience);
        Assert.All(userIds, id => Assert.Equal([1L], Versions(state, id)));
        Assert.Equal(0, state.GetProperty("duplicates").GetInt32());
        var attempts = await database.ReadAsync(db => db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId)
            .OrderBy(a => a.Id).Select(a => new { a.UserId, a.Version, a.Succeeded }).ToListAsync());
        Assert.Equal(4, attempts.Count);
        Assert.Equal([false, true], attempts.Where(a => a.UserId == refused).Select(a => a.Succeeded));
        Assert.All(attempts, a => Assert.Equal(1L, a.Version));
    }

    [PrerequisiteFact]
    public async Task DeliverBatch_OneUsersClaimLostAndTakenByAnotherClaim_ThatUserStandsDownAndTheOthersGoInOrder()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (connectorId, userIds) = await BatchOfUsersAsync(receiver, 3);
        await DeliverAllAsync(connectorId);
        foreach (var userId in userIds)
        {
            await RenameAsync(userId, "Renamed");
        }

        var pairs = await database.ClaimAsync(connectorId, TimeSpan.FromMinutes(2));
        Assert.Equal(3, pairs.Count);
        // The middle user's claim is given back and taken by another claim (as another node would, once it lapsed).
        var lost = pairs[1];
        await database.RunAsync(s => s.GetRequiredService<OutboxClaims>().ReleaseAsync(lost, CancellationToken.None));
        var retaken = Assert.Single(await database.ClaimAsync(connectorId, TimeSpan.FromMinutes(2)));
        Assert.Equal(lost.UserId, retaken.UserId);

        var results = await database.RunAsync(s => s.GetRequiredService<PairDelivery>().DeliverAsync(pairs, CancellationToken.None));

        Assert.Equal([true, false, true], results.Select(r => r.Attempted));
        var state = await receiver.WaitForAsync(s => Versions(s, pairs[0].UserId).Count == 2 && Versions(s, pairs[2].UserId).Count == 2, Patience);
        Assert.Equal([1L], Versions(state, lost.UserId));
        // The claim that holds the user delivers it, once, as the next version.
        await database.RunAsync(s => s.GetRequiredService<PairDelivery>().DeliverAsync(retaken, CancellationToken.None));
        state = await receiver.WaitForAsync(s => Versions(s, lost.UserId).Count == 2, Patience);
        Assert.All(userIds, id => Assert.Equal([1L, 2L], Versions(state, id)));
        Assert.Equal(0, state.GetProperty("duplicates").GetInt32());
        Assert.False(await database.ReadAsync(db => db.Outbox.AnyAsync(o => o.ConnectorId == connectorId)));
    }

    /// <summary>A webhook connector whose application's role <paramref name="count"/> new users hold (one due row each).</summary>
    private async Task<(Guid ConnectorId, List<string> UserIds)> BatchOfUsersAsync(WebhookReceiver receiver, int count)
    {
        var application = await database.CreateApplicationAsync();
        var role = await database.CreateRoleAsync(application.Id, (await database.CreatePermissionAsync(application.Id)).Id);
        using var settings = JsonDocument.Parse(JsonSerializer.Serialize(new { url = receiver.HooksUrl }));
        var created = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(
            application.Id, new ConnectorInput("webhook", ProvisioningDatabase.NewCode("hooks"), settings.RootElement.Clone(), null), CancellationToken.None));
        await receiver.SetSecretAsync(created.GeneratedSecret!);
        var userIds = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var userId = await database.CreateUserAsync();
            await database.GrantAsync(userId, role.Id);
            userIds.Add(userId);
        }

        return (created.Connector.Id, userIds);
    }

    /// <summary>Claims and delivers this connector's due rows, as the dispatcher would, until none is left.</summary>
    private async Task DeliverAllAsync(Guid connectorId)
    {
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (await database.ReadAsync(db => db.Outbox.AnyAsync(o => o.ConnectorId == connectorId)))
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "Rows are still waiting after the deliveries.");
            foreach (var pair in await database.ClaimAsync(connectorId, TimeSpan.FromMinutes(2)))
            {
                await database.RunAsync(s => s.GetRequiredService<PairDelivery>().DeliverAsync(pair, CancellationToken.None));
            }
        }
    }

    private Task RenameAsync(string userId, string displayName) => database.RunAsync(async s =>
    {
        var user = await s.GetRequiredService<Data.IdentityHubDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == userId);
        await s.GetRequiredService<UserDirectory>().UpdateAsync(
            userId, new UserInput(user.UserName, displayName, user.Email, user.PhoneNumber, user.EmployeeNumber, user.DepartmentId, user.ManagerId), null, CancellationToken.None);
    });

    /// <summary>The versions the receiver accepted for the user, in the order they came (a duplicate shows twice).</summary>
    private static List<long> Versions(JsonElement state, string userId) =>
        [.. state.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("user").GetString() == userId).Select(m => m.GetProperty("version").GetInt64())];
}

[Requires(Prerequisite.Node)]
public sealed class SqlitePairDeliveryTests(SqliteProvisioningDatabase database) : PairDeliveryTests<SqliteProvisioningDatabase>(database);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlPairDeliveryTests(PostgreSqlProvisioningDatabase database) : PairDeliveryTests<PostgreSqlProvisioningDatabase>(database);

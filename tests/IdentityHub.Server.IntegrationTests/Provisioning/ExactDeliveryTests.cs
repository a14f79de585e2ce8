using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// Issue 13's exact deliveries through the webhook receiver: rows waiting out a backoff are folded into a later delivery
/// of the same state (but a change committed during a delivery is not), a delivery with nothing to send is recorded as
/// such, and the README's event table holds from end to end. Targets are held, not raced: see <see cref="HeldTargets"/>.
/// </summary>
public abstract class ExactDeliveryTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task Deliver_RowWaitingOutABackoffThenALaterChangeDelivered_TheRowIsSettledAndNothingIsSentTwice()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => Type(u) == "user.created"), Patience);

        // The next message is refused with 503 and "Retry-After: 3600": its row waits out an hour.
        await receiver.SetFaultsAsync(new { status = 503, retryAfter = 3600 });
        await driver.RenameAsync(userId, "First rename");
        var waiting = await driver.WaitForAsync(
            db => db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId && o.UserId == userId).ToListAsync(), rows => rows.Count == 1 && rows[0].Attempts == 1, Patience);
        Assert.True(waiting[0].DueAt > DateTimeOffset.UtcNow.AddMinutes(50), $"due {waiting[0].DueAt:O}");
        Assert.Equal("failing", (await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status")).GetProperty("health").GetString());

        // The target is back; the user changes again, and that delivery's state holds the first rename too.
        await driver.RenameAsync(userId, "Second rename");
        var delivered = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => DisplayName(u) == "Second rename"), Patience);

        // The row that was waiting for its hour went with that delivery: no second, identical delivery is left to come.
        Assert.Equal(0, await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience));
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal("healthy", status.GetProperty("health").GetString());
        Assert.Equal(0, status.GetProperty("failed").GetInt32());
        Assert.Equal([true, false, true], (await driver.AttemptsAsync(connectorId, userId)).Select(a => a.Succeeded));
        Assert.Equal(["user.created", "user.updated"], Messages(delivered, userId).Select(m => m.GetProperty("type").GetString()));
        Assert.Equal(0, delivered.GetProperty("duplicates").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Deliver_ChangeCommittedWhileADeliveryIsInFlight_KeepsItsRowAndArrivesNext()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => Type(u) == "user.created"), Patience);

        await receiver.HoldAsync();
        await driver.RenameAsync(userId, "In flight");
        await receiver.WaitForAsync(s => s.GetProperty("held").GetInt32() == 1, Patience);
        // Committed while that delivery waits at the target: the state it sends was read before this change existed.
        await driver.RenameAsync(userId, "Committed meanwhile");
        Assert.Equal(2, await driver.ReadAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.UserId == userId)));
        await receiver.ReleaseAsync();

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => DisplayName(u) == "Committed meanwhile"), Patience);
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        var messages = Messages(state, userId);
        Assert.Equal(["user.created", "user.updated", "user.updated"], messages.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal(messages.Select(m => m.GetProperty("version").GetInt64()).Order(), messages.Select(m => m.GetProperty("version").GetInt64()));
    }

    [PrerequisiteFact]
    public async Task Deliver_FirstDeliveryFailedThenTheUserChanged_TheReceiversFirstMessageIsUserCreated()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        await receiver.SetFaultsAsync(new { status = 503, retryAfter = 3600 });
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await driver.WaitForAsync(
            db => db.Outbox.AsNoTracking().Where(o => o.ConnectorId == connectorId && o.UserId == userId).Select(o => o.Attempts).ToListAsync(), a => a.SequenceEqual([1]), Patience);

        // The receiver never got user.created: the next version introduces the user, it does not "update" a stranger.
        await driver.RenameAsync(userId, "Renamed after the refusal");

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        var first = Assert.Single(Messages(state, userId));
        Assert.Equal("user.created", first.GetProperty("type").GetString());
        Assert.Equal("Renamed after the refusal", DisplayName(state.GetProperty("users").GetProperty(userId)));
    }

    [PrerequisiteFact]
    public async Task Deliver_DeletionFailedThenTheUserChangedOutsideTheScope_UserDeletedIsStillSent()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserAsync();
        var assignment = await driver.GrantAsync(userId, applicationId);
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => Type(u) == "user.created"), Patience);

        // The deletion is held at the target, then refused with 503: it is retried.
        await receiver.SetFaultsAsync(new { hold = true, status = 503 });
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(assignment, "moved on", CancellationToken.None);
        }

        await receiver.WaitForAsync(s => s.GetProperty("held").GetInt32() == 1, Patience);
        // Changed meanwhile, outside the scope: the retry sends a newer state, and the receiver must still hear that the user left.
        await driver.RenameAsync(userId, "Renamed while leaving");
        await receiver.ReleaseAsync();

        var deleted = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => Type(u) == "user.deleted"), Patience);
        Assert.False(deleted.GetProperty("users").GetProperty(userId).GetProperty("data").GetProperty("exists").GetBoolean());
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        Assert.Equal([true, false, true], (await driver.AttemptsAsync(connectorId, userId)).Select(a => a.Succeeded));
    }

    [PrerequisiteFact]
    public async Task Deliver_UserOutOfTheScopeBySendTime_RecordedAsNothingToSendNotAsDelivered()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/pause");
        // Granted and ended while the connector is paused: rows are queued, but by send time the receiver should not hear of the user.
        var userId = await driver.CreateUserAsync();
        var assignment = await driver.GrantAsync(userId, applicationId);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(assignment, "granted by mistake", CancellationToken.None);
        }

        Assert.True(await driver.ReadAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.UserId == userId)) > 0);
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/resume");

        var attempt = Assert.Single(await driver.WaitForAsync(
            db => db.DeliveryAttempts.AsNoTracking().Where(a => a.ConnectorId == connectorId && a.UserId == userId).ToListAsync(), a => a.Count > 0, Patience));
        Assert.True(attempt.NothingSent);
        Assert.False(attempt.Succeeded);
        Assert.Null(attempt.StatusCode);
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        Assert.Equal(0, (await receiver.StateAsync()).GetProperty("received").GetInt32());

        var history = Assert.Single((await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/deliveries?userId={userId}")).EnumerateArray());
        Assert.Equal(DeliveryOutcomes.NothingToSend, history.GetProperty("outcome").GetString());
        Assert.False(history.GetProperty("succeeded").GetBoolean());
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal("healthy", status.GetProperty("health").GetString());
        Assert.Empty(status.GetProperty("lastErrors").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("lastDeliveredAt").ValueKind);
        var stats = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/deliveries/stats?bucket=minute");
        Assert.Equal(0, stats.EnumerateArray().Sum(b => b.GetProperty("deliveries").GetInt32() + b.GetProperty("failures").GetInt32()));

        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync($"/admin/provisioning/history?user={userId}");
        Assert.Contains("data-outcome=\"nothing-to-send\">nothing to send<", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-outcome=\"delivered\"", page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Deliver_EveryTransitionOfTheEventTable_ArrivesAsTheReadmeSays()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserAsync();

        // Outside the scope, unknown to the receiver: never sent.
        await driver.RenameAsync(userId, "Outsider");
        await driver.GrantAsync(userId, applicationId);
        var version = await ExpectAsync(receiver, userId, "user.created", after: 0);
        await driver.RenameAsync(userId, "Renamed");
        version = await ExpectAsync(receiver, userId, "user.updated", version);
        await driver.GrantAsync(userId, applicationId, role: "approver");
        version = await ExpectAsync(receiver, userId, "access.changed", version);
        await driver.ChangeStatusAsync(userId, (directory, id) => directory.SuspendAsync(id, "on leave", CancellationToken.None));
        version = await ExpectAsync(receiver, userId, "user.disabled", version);
        await driver.ChangeStatusAsync(userId, (directory, id) => directory.ReactivateAsync(id, CancellationToken.None));
        version = await ExpectAsync(receiver, userId, "access.changed", version);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAllForUserAsync(userId, "moved to another team", CancellationToken.None);
        }

        version = await ExpectAsync(receiver, userId, "user.deleted", version);
        // Told they left: nothing more until they are back in scope.
        var received = (await receiver.StateAsync()).GetProperty("received").GetInt32();
        await driver.RenameAsync(userId, "Renamed while outside");
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        Assert.Equal(received, (await receiver.StateAsync()).GetProperty("received").GetInt32());
        await driver.GrantAsync(userId, applicationId);
        version = await ExpectAsync(receiver, userId, "user.created", version);
        await driver.ChangeStatusAsync(userId, (directory, id) => directory.MarkLeftAsync(id, "resigned", CancellationToken.None));
        await ExpectAsync(receiver, userId, "user.deleted", version);

        var state = await receiver.StateAsync();
        var messages = Messages(state, userId);
        Assert.Equal(
            ["user.created", "user.updated", "access.changed", "user.disabled", "access.changed", "user.deleted", "user.created", "user.deleted"],
            messages.Select(m => m.GetProperty("type").GetString()));
        Assert.Equal(0, state.GetProperty("badSignatures").GetInt32());
        Assert.Empty(state.GetProperty("backwards").EnumerateArray());
    }

    /// <summary>Waits for a version after <paramref name="after"/> and checks its event; returns the version.</summary>
    private static async Task<long> ExpectAsync(WebhookReceiver receiver, string userId, string type, long after)
    {
        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("version").GetInt64() > after), Patience);
        var user = state.GetProperty("users").GetProperty(userId);
        Assert.True(Type(user) == type, $"expected {type} after version {after}, got {user}");
        return user.GetProperty("version").GetInt64();
    }

    /// <summary>The messages the receiver accepted for the user, one per version, in order.</summary>
    private static List<JsonElement> Messages(JsonElement state, string userId) =>
        [.. state.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("user").GetString() == userId).DistinctBy(m => m.GetProperty("version").GetInt64())];

    private static string? Type(JsonElement user) => user.GetProperty("type").GetString();

    private static string? DisplayName(JsonElement user) => user.GetProperty("data").GetProperty("displayName").GetString();
}

[Requires(Prerequisite.Node)]
public sealed class SqliteExactDeliveryTests(SqliteFactory<HeldTargets> factory) : ExactDeliveryTests<SqliteFactory<HeldTargets>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlExactDeliveryTests(PostgreSqlFactory<HeldTargets> factory) : ExactDeliveryTests<PostgreSqlFactory<HeldTargets>>(factory);

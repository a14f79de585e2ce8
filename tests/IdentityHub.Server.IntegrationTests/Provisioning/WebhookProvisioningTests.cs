using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Data.Provisioning;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The dispatcher and the webhook connector against the Node receiver that verifies Standard Webhooks signatures with
/// the `standardwebhooks` package: delivery to users in the application's scope only, the events and versions, faults
/// with backoff, dead letters and replay, pause and coalescing.
/// </summary>
public abstract class WebhookProvisioningTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task Deliver_RoleGrantedThenAnotherRole_ArrivesSignedWithGrowingVersions()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, _, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        await receiver.SetSecretAsync(secret);

        // The user enters the application's scope with their first role there: user.created, version 1.
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var created = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.True(ProvisioningDriver.HasUser(created, userId, u => u.GetProperty("type").GetString() == "user.created" && u.GetProperty("version").GetInt64() == 1), created.ToString());

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var permission = await scope.ServiceProvider.GetRequiredService<Permissions>()
                .CreateAsync(applicationId, new PermissionInput("expense.approve", null, new Dictionary<string, string> { ["amountLimit"] = "5000" }), CancellationToken.None);
            var role = await scope.ServiceProvider.GetRequiredService<Roles>()
                .CreateAsync(new RoleInput(applicationId, "approver", null, false, [new RolePermissionInput(permission.Id)]), CancellationToken.None);
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, role.Id, null, null, null, "test"), CancellationToken.None);
        }

        var granted = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "access.changed"), Patience);
        var user = granted.GetProperty("users").GetProperty(userId);
        Assert.True(user.GetProperty("version").GetInt64() >= 2, granted.ToString());
        Assert.Equal(["approver", "member"], user.GetProperty("data").GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var permissionSent = Assert.Single(user.GetProperty("data").GetProperty("permissions").EnumerateArray(), p => p.GetProperty("name").GetString() == "expense.approve");
        Assert.Equal("5000", permissionSent.GetProperty("parameters").GetProperty("amountLimit").GetString());
        Assert.Equal(0, granted.GetProperty("badSignatures").GetInt32());
        Assert.Empty(granted.GetProperty("backwards").EnumerateArray());
    }

    [PrerequisiteFact]
    public async Task Deliver_UserWithoutAccessToTheApplication_NothingIsQueuedOrSent()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (_, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);

        // A profile is personal data: a receiver whose application the user has no access to never gets it.
        var userId = await driver.CreateUserAsync();
        await driver.RenameAsync(userId, "Renamed Outsider");
        await Task.Delay(1000);

        Assert.Equal(0, (await receiver.StateAsync()).GetProperty("received").GetInt32());
        Assert.Equal(0, await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), _ => true, Patience));
    }

    [PrerequisiteFact]
    public async Task Deliver_SuspendedThenLeft_UserDisabledThenUserDeletedWithoutTheProfile()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, _, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.created"), Patience);

        await driver.ChangeStatusAsync(userId, (directory, id) => directory.SuspendAsync(id, "on leave", CancellationToken.None));
        var disabled = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.disabled"), Patience);
        var suspended = disabled.GetProperty("users").GetProperty(userId).GetProperty("data");
        Assert.False(suspended.GetProperty("active").GetBoolean());
        Assert.True(suspended.GetProperty("exists").GetBoolean());
        Assert.Equal($"User {suspended.GetProperty("userName").GetString()}", suspended.GetProperty("displayName").GetString());

        await driver.ChangeStatusAsync(userId, (directory, id) => directory.MarkLeftAsync(id, "resigned", CancellationToken.None));
        var deleted = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.deleted"), Patience);
        var gone = deleted.GetProperty("users").GetProperty(userId).GetProperty("data");
        Assert.False(gone.GetProperty("exists").GetBoolean());
        Assert.Equal(userId, gone.GetProperty("userId").GetString());
        Assert.Equal(JsonValueKind.Null, gone.GetProperty("displayName").ValueKind);
        Assert.Equal(JsonValueKind.Null, gone.GetProperty("email").ValueKind);
        Assert.Empty(gone.GetProperty("roles").EnumerateArray());
        Assert.Empty(deleted.GetProperty("backwards").EnumerateArray());
    }

    [PrerequisiteFact]
    public async Task Deliver_LastRoleEnded_UserDeletedThenSilenceUntilAccessReturns()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var userId = await driver.CreateUserAsync();
        var assignment = await driver.GrantAsync(userId, applicationId);
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.created"), Patience);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(assignment, "moved on", CancellationToken.None);
        }

        var deleted = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.deleted"), Patience);
        Assert.False(deleted.GetProperty("users").GetProperty(userId).GetProperty("data").GetProperty("exists").GetBoolean());
        var received = deleted.GetProperty("received").GetInt32();

        // Told they left: their later changes are nobody's business there.
        await driver.RenameAsync(userId, "Renamed After Leaving The Application");
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        Assert.Equal(received, (await receiver.StateAsync()).GetProperty("received").GetInt32());

        await driver.GrantAsync(userId, applicationId);
        var back = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId, u => u.GetProperty("type").GetString() == "user.created"), Patience);
        Assert.Equal("Renamed After Leaving The Application", back.GetProperty("users").GetProperty(userId).GetProperty("data").GetProperty("displayName").GetString());
        Assert.Empty(back.GetProperty("backwards").EnumerateArray());
    }

    [PrerequisiteFact]
    public async Task Deliver_TargetAnswers500Then429ThenHangs_DeliveredAfterBackoffHonouringRetryAfter()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        // Three failures: MaxAttempts is 4 in these tests, so the fourth attempt must succeed.
        await receiver.SetFaultsAsync(new { status = 500 }, new { status = 429, retryAfter = 2 }, new { hangMs = 3000 });

        var userId = await driver.CreateUserWithAccessAsync(applicationId);

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.True(ProvisioningDriver.HasUser(state, userId), state.ToString());
        // The attempt row is written once the receiver's answer is in.
        await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == connectorId && a.Succeeded), n => n == 1, Patience);
        var attempts = await driver.AttemptsAsync(connectorId, userId);
        Assert.Equal([false, false, false, true], attempts.Select(a => a.Succeeded));
        Assert.Equal([500, 429, null, null], attempts.Select(a => a.StatusCode));
        Assert.Contains("AttemptTimeout", attempts[2].Error, StringComparison.Ordinal);
        // Retry-After: 2 was honoured: the next attempt came no sooner (attempt rows are written when an attempt ends).
        Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromSeconds(2.9), $"{attempts[1].At:O} -> {attempts[2].At:O}");
        // Every failed attempt of one state keeps its version (the same message, the same webhook-id).
        Assert.Single(attempts.Select(a => a.Version).Distinct());
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal("healthy", status.GetProperty("health").GetString());
        Assert.Equal(0, status.GetProperty("pending").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Deliver_ConnectionRefused_DeliveredOnceTheTargetListens()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var port = ServerProcess.FreePort();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(new Uri($"http://127.0.0.1:{port}/hooks"));

        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var failures = await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == connectorId && !a.Succeeded), n => n >= 2, Patience);
        Assert.True(failures >= 2);
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal("failing", status.GetProperty("health").GetString());
        Assert.Equal(1, status.GetProperty("failed").GetInt32());
        Assert.Contains("ConnectionError", status.GetProperty("lastErrors")[0].GetProperty("error").GetString(), StringComparison.Ordinal);

        // Paused while the target starts, so the few attempts these tests allow are not spent meanwhile.
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/pause");
        await using var receiver = await WebhookReceiver.StartAsync(secret, port);
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/resume");
        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.True(ProvisioningDriver.HasUser(state, userId), state.ToString());
    }

    [PrerequisiteFact]
    public async Task Deliver_TargetRefuses400_DeadAtOnceThenReplayedInBulk()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        await receiver.SetFaultsAsync(new { status = 400 });

        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var dead = await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead), n => n == 1, Patience);
        Assert.Equal(1, dead);
        Assert.Single(await driver.AttemptsAsync(connectorId, userId));
        var letters = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/dead-letters");
        Assert.Equal(1, letters.GetProperty("total").GetInt32());
        Assert.Equal(userId, letters.GetProperty("items")[0].GetProperty("userId").GetString());

        var replay = await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/dead-letters/replay");
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.True(ProvisioningDriver.HasUser(state, userId), state.ToString());
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal(0, status.GetProperty("dead").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Deliver_FailsMaxAttempts_GoesDeadThenReplayedOneByOne()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        await receiver.SetFaultsAsync(new { status = 503 }, new { status = 503 }, new { status = 503 }, new { status = 503 });

        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var row = await driver.WaitForAsync(db => db.Outbox.AsNoTracking().FirstOrDefaultAsync(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead), r => r is not null, Patience);
        Assert.NotNull(row);
        Assert.Equal(4, row.Attempts);
        Assert.Equal(4, (await driver.AttemptsAsync(connectorId, userId)).Count);

        var replay = await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/dead-letters/{row.Id}/replay");
        Assert.Equal(1, replay.GetProperty("replayed").GetInt32());
        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.True(ProvisioningDriver.HasUser(state, userId), state.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await driver.Admin.PostAsync($"/api/admin/v1/connectors/{connectorId}/dead-letters/{row.Id}/replay", null)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Deliver_LaterChangeOfTheUserDelivered_ItsDeadLettersAreRemoved()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        await receiver.SetFaultsAsync(new { status = 400 });
        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId && o.Status == OutboxStatus.Dead), n => n == 1, Patience);

        await driver.RenameAsync(userId, "Renamed after the refusal");

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        Assert.Equal("Renamed after the refusal", state.GetProperty("users").GetProperty(userId).GetProperty("data").GetProperty("displayName").GetString());
        // The delivered state is the current one, so the dead row it supersedes went in the same save as the delivered row.
        var left = await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        Assert.Equal(0, left);
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal(0, status.GetProperty("dead").GetInt32());
        Assert.Equal(0, (await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/dead-letters")).GetProperty("total").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Deliver_ChangeQueuedWhilePaused_CommitToDeliveredLatencyIsRecordedBesideTheAttemptDuration()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var measured = new System.Collections.Concurrent.ConcurrentQueue<(string Instrument, double Seconds)>();
        var meters = factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == IdentityHub.Provisioning.Monitoring.ProvisioningMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => measured.Enqueue((instrument.Name, value)));
        listener.Start();
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/pause");

        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        var paused = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(1500);
        // Taken before the resume: the delivery cannot start before it, so the row waited at least this long.
        var pausedFor = paused.Elapsed.TotalSeconds;
        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/resume");
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        await driver.WaitForAsync(db => db.DeliveryAttempts.CountAsync(a => a.ConnectorId == connectorId && a.Succeeded), n => n == 1, Patience);
        // The measurements follow the attempt row's commit: wait for them as well, not for the thread that records them.
        var deadline = DateTime.UtcNow + Patience;
        while (!measured.Any(m => m.Instrument == "identityhub.provisioning.change.latency") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var latencies = measured.Where(m => m.Instrument == "identityhub.provisioning.change.latency").Select(m => m.Seconds).ToList();
        var durations = measured.Where(m => m.Instrument == "identityhub.provisioning.delivery.duration").Select(m => m.Seconds).ToList();
        // The row was committed before the pause began and delivered after it ended: the latency holds the pause and the
        // attempt, the attempt's duration neither the pause nor the queueing (an order of events, whatever the machine's speed).
        Assert.Contains(latencies, seconds => seconds >= pausedFor);
        Assert.Contains(durations, seconds => latencies.Any(latency => latency >= pausedFor + seconds - 0.01));
    }

    [PrerequisiteFact]
    public async Task Pause_ChangesQueueWhilePaused_OneCoalescedDeliveryOnResume()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        await using var receiver = await WebhookReceiver.StartAsync();
        var (applicationId, connectorId, secret) = await driver.CreateWebhookConnectorAsync(receiver.HooksUrl);
        await receiver.SetSecretAsync(secret);
        var paused = await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/pause");
        Assert.Equal("paused", paused.GetProperty("health").GetString());

        var userId = await driver.CreateUserWithAccessAsync(applicationId);
        await driver.RenameAsync(userId, "Second name");
        await driver.RenameAsync(userId, "Final name");
        await Task.Delay(1500);
        Assert.Equal(0, (await receiver.StateAsync()).GetProperty("received").GetInt32());
        var status = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/status");
        Assert.Equal(3, status.GetProperty("pending").GetInt32());
        Assert.True(status.GetProperty("lagSeconds").GetDouble() >= 1);

        await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/resume");
        await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, userId), Patience);
        // Once the queue is empty nothing more can come: whatever was sent has been answered.
        await driver.WaitForAsync(db => db.Outbox.CountAsync(o => o.ConnectorId == connectorId), n => n == 0, Patience);
        var state = await receiver.StateAsync();
        Assert.Equal(1, state.GetProperty("received").GetInt32());
        var user = state.GetProperty("users").GetProperty(userId);
        Assert.Equal("Final name", user.GetProperty("data").GetProperty("displayName").GetString());
        Assert.Equal("user.created", user.GetProperty("type").GetString());
        var history = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/deliveries?userId={userId}");
        Assert.Single(history.EnumerateArray());
        var stats = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/deliveries/stats?bucket=minute");
        Assert.Equal(1, stats.EnumerateArray().Sum(b => b.GetProperty("deliveries").GetInt32()));

        // Connector changes are admin changes: audited in their own transaction, never with the secret.
        var audited = await driver.WaitForAsync(
            db => db.AuditEvents.Where(e => e.TargetType == "connector" && e.TargetId == connectorId.ToString()).OrderBy(e => e.Sequence).ToListAsync(),
            events => events.Count >= 3, Patience);
        Assert.Equal(["connector.created", "connector.paused", "connector.resumed"], audited.Select(e => e.Type));
        Assert.All(audited, e => Assert.DoesNotContain(secret, (e.Before ?? "") + (e.After ?? ""), StringComparison.Ordinal));
    }

    [PrerequisiteFact]
    public async Task ConnectorsApi_BadInput_ProblemsNameTheField()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        var path = $"/api/admin/v1/applications/{applicationId}/connectors";

        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.PostAsJsonAsync(path, new { kind = "ftp", name = "x", settings = new { } }), "kind");
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.PostAsJsonAsync(path, new { kind = "webhook", name = "x", settings = new { url = "http://example.com/hooks" } }), "settings.url");
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.PostAsJsonAsync(path, new { kind = "webhook", name = "x", settings = new { url = "https://example.com/hooks" }, secret = "mine" }), "secret");
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.PostAsJsonAsync(path, new { kind = "webhook", name = "", settings = new { url = "https://example.com/hooks" } }), "name");
        Assert.Equal(HttpStatusCode.NotFound, (await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{Guid.NewGuid()}/connectors", new { kind = "webhook", name = "x", settings = new { url = "https://example.com/h" } })).StatusCode);

        var created = await driver.Admin.PostAsJsonAsync(path, new { kind = "webhook", name = "ok", settings = new { url = "https://example.com/hooks" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.PostAsJsonAsync(path, new { kind = "webhook", name = "ok", settings = new { url = "https://example.com/other" } }), "name");
        await ApplicationsApiTests<TFactory>.AssertFieldProblemAsync(await driver.Admin.GetAsync($"/api/admin/v1/connectors/{id}/deliveries/stats?bucket=week"), "bucket");
        var read = await driver.GetJsonAsync($"/api/admin/v1/connectors/{id}");
        Assert.False(read.TryGetProperty("secret", out var secret) && secret.ValueKind == JsonValueKind.String, "The secret is shown only at creation.");
        Assert.True(read.GetProperty("hasSecret").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await driver.Admin.DeleteAsync($"/api/admin/v1/connectors/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await driver.Admin.GetAsync($"/api/admin/v1/connectors/{id}")).StatusCode);
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteWebhookProvisioningTests(SqliteFactory<FastProvisioning> factory) : WebhookProvisioningTests<SqliteFactory<FastProvisioning>>(factory);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlWebhookProvisioningTests(PostgreSqlFactory<FastProvisioning> factory) : WebhookProvisioningTests<PostgreSqlFactory<FastProvisioning>>(factory);

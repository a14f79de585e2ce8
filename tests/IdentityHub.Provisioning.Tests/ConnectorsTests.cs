using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Tests;

/// <summary>
/// The connectors service: its refusals (a clear field error, nothing written), the secret policy per kind, the audit
/// trail without the secret, If-Match, pause and resume, and the initial sync of a new connector.
/// </summary>
public abstract class ConnectorsTests<TDatabase>(TDatabase database) : IClassFixture<TDatabase>
    where TDatabase : ProvisioningDatabase
{
    private const string Hooks = ConnectorInputRows.Hooks;
    private const string Scim = ConnectorInputRows.Scim;

    [PrerequisiteTheory]
    [MemberData(nameof(ConnectorInputRows.BadInput), MemberType = typeof(ConnectorInputRows))]
    public async Task CreateAsync_BadInput_RefusedNamingTheFieldAndNothingWritten(string? kind, string? name, string settings, string? secret, string field)
    {
        var application = await database.CreateApplicationAsync();
        var audited = await AuditCountAsync();

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => CreateAsync(application.Id, kind, name, settings, secret));

        Assert.Equal(ViolationKind.Invalid, refused.Kind);
        Assert.True(refused.Errors.ContainsKey(field), $"No error for {field}: {JsonSerializer.Serialize(refused.Errors)}");
        Assert.Equal(0, await database.ReadAsync(db => db.Connectors.CountAsync(c => c.ApplicationId == application.Id)));
        Assert.Equal(audited, await AuditCountAsync());
    }

    [PrerequisiteFact]
    public async Task CreateAsync_NameTakenInTheApplication_RefusedNamingTheNameButFreeInAnother()
    {
        var application = await database.CreateApplicationAsync();
        var other = await database.CreateApplicationAsync();
        await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => CreateAsync(application.Id, "webhook", " hooks ", Hooks, null));

        Assert.Equal(["name"], refused.Errors.Keys);
        Assert.NotNull(await CreateAsync(other.Id, "webhook", "hooks", Hooks, null));
    }

    [PrerequisiteFact]
    public async Task CreateAsync_UnknownApplication_IsNotFound()
    {
        var refused = await Assert.ThrowsAsync<RuleViolation>(() => CreateAsync(Guid.NewGuid(), "webhook", "hooks", Hooks, null));

        Assert.Equal(ViolationKind.NotFound, refused.Kind);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_Webhook_GeneratesTheSecretOnceStoresItProtectedAndAuditsWithoutIt()
    {
        var application = await database.CreateApplicationAsync();

        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        Assert.StartsWith("whsec_", created.GeneratedSecret, StringComparison.Ordinal);
        var stored = await database.ReadAsync(db => db.Connectors.SingleAsync(c => c.Id == created.Connector.Id));
        Assert.NotNull(stored.ProtectedSecret);
        Assert.DoesNotContain(created.GeneratedSecret!, stored.ProtectedSecret, StringComparison.Ordinal);
        var audit = await database.ReadAsync(db => db.AuditEvents.SingleAsync(e => e.TargetType == "connector" && e.TargetId == created.Connector.Id.ToString()));
        Assert.Equal("connector.created", audit.Type);
        Assert.DoesNotContain(created.GeneratedSecret!, audit.After, StringComparison.Ordinal);
        Assert.Contains("\"hasSecret\":true", audit.After, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_UsersAlreadyHoldRolesInTheApplication_QueuesThemAsTheInitialSync()
    {
        var application = await database.CreateApplicationAsync();
        var role = await database.CreateRoleAsync(application.Id, (await database.CreatePermissionAsync(application.Id)).Id);
        var holders = new[] { await database.CreateUserAsync(), await database.CreateUserAsync() };
        foreach (var holder in holders)
        {
            await database.GrantAsync(holder, role.Id);
        }

        var outsider = await database.CreateUserAsync();

        var created = await CreateAsync(application.Id, "scim", "scim", Scim, "token");

        Assert.NotNull(created.InitialSync);
        Assert.Equal(2, created.InitialSync.Total);
        var queued = await database.ReadAsync(db => db.Outbox.Where(o => o.ConnectorId == created.Connector.Id).ToListAsync());
        Assert.Equal(holders.Order(StringComparer.Ordinal), queued.Select(o => o.UserId).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(queued, o => o.UserId == outsider);
        Assert.All(queued, o => Assert.StartsWith("full-sync:", o.Change, StringComparison.Ordinal));
        var run = await database.ReadAsync(db => db.ReconciliationRuns.SingleAsync(r => r.ConnectorId == created.Connector.Id));
        Assert.Equal((ReconciliationKind.FullSync, 2), (run.Kind, run.Total));
        var audit = await database.ReadAsync(db => db.AuditEvents.SingleAsync(e => e.TargetId == created.Connector.Id.ToString()));
        Assert.Contains("\"initialSyncUsers\":2", audit.After, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_NobodyHoldsAccessYet_RecordsNoInitialSync()
    {
        var application = await database.CreateApplicationAsync();

        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        Assert.Null(created.InitialSync);
        Assert.False(await database.ReadAsync(db => db.ReconciliationRuns.AnyAsync(r => r.ConnectorId == created.Connector.Id)));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_StaleRevision_RefusedAsStaleAndUnchanged()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);
        var read = Revision.Of(created.Connector.UpdatedAt);
        await UpdateAsync(created.Connector.Id, new ConnectorInput("webhook", "renamed", Json(Hooks), null), read);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => UpdateAsync(created.Connector.Id, new ConnectorInput("webhook", "again", Json(Hooks), null), read));

        Assert.Equal(ViolationKind.Stale, refused.Kind);
        Assert.Equal("renamed", await database.ReadAsync(db => db.Connectors.Where(c => c.Id == created.Connector.Id).Select(c => c.Name).SingleAsync()));
    }

    [PrerequisiteTheory]
    [InlineData("scim", "kind")]
    [InlineData("webhook", "secret")]
    public async Task UpdateAsync_WebhookGivenAnotherKindOrASecret_RefusedNamingTheField(string kind, string field)
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
            UpdateAsync(created.Connector.Id, new ConnectorInput(kind, "hooks", Json(Hooks), field == "secret" ? "mine" : null), null));

        Assert.Contains(field, refused.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_ScimWithoutSecret_KeepsTheStoredSecret()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "scim", "scim", Scim, "token");
        var before = await database.ReadAsync(db => db.Connectors.Where(c => c.Id == created.Connector.Id).Select(c => c.ProtectedSecret).SingleAsync());

        await UpdateAsync(created.Connector.Id, new ConnectorInput(null, "scim", Json("""{"baseUrl":"https://scim.example/v2","groupsMode":true}"""), null), null);

        var after = await database.ReadAsync(db => db.Connectors.SingleAsync(c => c.Id == created.Connector.Id));
        Assert.Equal(before, after.ProtectedSecret);
        Assert.Contains("groupsMode", after.Settings, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SetPausedAsync_PausedTwiceThenResumed_AuditsEachChangeOnce()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().SetPausedAsync(created.Connector.Id, true, CancellationToken.None));
        await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().SetPausedAsync(created.Connector.Id, true, CancellationToken.None));
        var resumed = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().SetPausedAsync(created.Connector.Id, false, CancellationToken.None));

        Assert.False(resumed.Paused);
        var types = await database.ReadAsync(db => db.AuditEvents.Where(e => e.TargetId == created.Connector.Id.ToString()).OrderBy(e => e.Sequence).Select(e => e.Type).ToListAsync());
        Assert.Equal(["connector.created", "connector.paused", "connector.resumed"], types);
    }

    [PrerequisiteFact]
    public async Task TestAsync_Webhook_SaysThereIsNothingToReadAndCallsNothing()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);

        var result = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().TestAsync(created.Connector.Id, CancellationToken.None));

        Assert.Equal(ConnectionTestResult.NotAvailable, result.Outcome);
        Assert.Contains("nothing to read back", result.Message, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task TestAsync_ScimTargetRefusingConnections_SaysOnlyCouldNotBeFetched()
    {
        var application = await database.CreateApplicationAsync();
        // Port 9 (discard) is closed on loopback: the connection is refused at once.
        var created = await CreateAsync(application.Id, "scim", "closed", """{"baseUrl":"http://127.0.0.1:9/scim/v2","timeoutSeconds":5}""", "token");

        var result = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().TestAsync(created.Connector.Id, CancellationToken.None));

        // Refused, timed out and blocked read alike to the administrator (SSRF: no port map from test answers).
        Assert.Equal(ConnectionTestResult.Failed, result.Outcome);
        Assert.Equal(ConnectionTestResult.Unreachable, result.Message);
    }

    [PrerequisiteFact]
    public async Task CreateAsync_RestPresetWithPartialSettings_StoresThePresetUnderTheGivenSettings()
    {
        var application = await database.CreateApplicationAsync();

        var created = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(application.Id,
            new ConnectorInput("rest", "expense", Json("""{"baseUrl":"https://open.vendor.example/api","auth":{"appKey":"k"}}"""), "app-secret", "expense"), CancellationToken.None));

        using var stored = JsonDocument.Parse(created.Connector.Settings);
        Assert.Equal("https://open.vendor.example/api", stored.RootElement.GetProperty("baseUrl").GetString());
        Assert.Equal("k", stored.RootElement.GetProperty("auth").GetProperty("appKey").GetString());
        Assert.Equal("hmac", stored.RootElement.GetProperty("auth").GetProperty("type").GetString());
        Assert.Equal("data.id", stored.RootElement.GetProperty("responses").GetProperty("vendorIdPath").GetString());
    }

    [PrerequisiteTheory]
    [InlineData("rest", "travel")]
    [InlineData("webhook", "expense")]
    public async Task CreateAsync_UnknownPreset_RefusedNamingThePresetAndNothingWritten(string kind, string preset)
    {
        var application = await database.CreateApplicationAsync();

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(application.Id,
            new ConnectorInput(kind, "x", Json(Hooks), "s", preset), CancellationToken.None)));

        Assert.Equal(ViolationKind.Invalid, refused.Kind);
        Assert.Equal(["preset"], refused.Errors.Keys);
        Assert.Contains(kind, refused.Errors["preset"][0], StringComparison.Ordinal);
        Assert.Equal(0, await database.ReadAsync(db => db.Connectors.CountAsync(c => c.ApplicationId == application.Id)));
    }

    [PrerequisiteFact]
    public async Task UpdateAsync_WithAPreset_RefusedNamingThePreset()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "scim", "scim", Scim, "token");

        var refused = await Assert.ThrowsAsync<RuleViolation>(() => UpdateAsync(created.Connector.Id, new ConnectorInput(null, "scim", Json(Scim), null, "expense"), null));

        Assert.Equal(["preset"], refused.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task PreviewAsync_WebhookConnector_RefusedAsAConflictSayingThereIsNone()
    {
        var application = await database.CreateApplicationAsync();
        var created = await CreateAsync(application.Id, "webhook", "hooks", Hooks, null);
        var user = await database.CreateUserAsync();

        var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().PreviewAsync(created.Connector.Id, user, CancellationToken.None)));

        Assert.Equal(ViolationKind.Conflict, refused.Kind);
        Assert.Contains("no preview", refused.Message, StringComparison.Ordinal);
    }

    [PrerequisiteTheory]
    [InlineData(null)]
    [InlineData("no-such-user")]
    public async Task PreviewAsync_RestConnectorUnknownUser_NotFoundNamingTheUser(string? userId)
    {
        var application = await database.CreateApplicationAsync();
        var created = await database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(application.Id,
            new ConnectorInput("rest", "expense", Json("""{"baseUrl":"https://open.vendor.example/api","auth":{"appKey":"k"}}"""), "app-secret", "expense"), CancellationToken.None));

        var refused = await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().PreviewAsync(created.Connector.Id, userId, CancellationToken.None)));

        Assert.Equal(ViolationKind.NotFound, refused.Kind);
        Assert.Equal(["userId"], refused.Errors.Keys);
    }

    [PrerequisiteFact]
    public async Task DeleteAsync_Unknown_IsNotFound() =>
        Assert.Equal(ViolationKind.NotFound, (await Assert.ThrowsAsync<RuleViolation>(() =>
            database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().DeleteAsync(Guid.NewGuid(), null, CancellationToken.None)))).Kind);

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private Task<ConnectorCreated> CreateAsync(Guid applicationId, string? kind, string? name, string settings, string? secret) =>
        database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().CreateAsync(applicationId, new ConnectorInput(kind, name, Json(settings), secret), CancellationToken.None));

    private Task<Connector> UpdateAsync(Guid id, ConnectorInput input, long? revision) =>
        database.RunAsync(s => s.GetRequiredService<Connectors.Connectors>().UpdateAsync(id, input, revision, CancellationToken.None));

    private Task<int> AuditCountAsync() => database.ReadAsync(db => db.AuditEvents.CountAsync());
}

/// <summary>Bad connector input, one row per refusal: kind, name, settings, secret, and the field the refusal names.</summary>
public static class ConnectorInputRows
{
    public const string Hooks = """{"url":"https://hooks.example/identityhub"}""";
    public const string Scim = """{"baseUrl":"https://scim.example/v2"}""";

    public static TheoryData<string?, string?, string, string?, string> BadInput => new()
    {
        { "ftp", "x", "{}", null, "kind" },
        { null, "x", Hooks, null, "kind" },
        { "webhook", "", Hooks, null, "name" },
        { "webhook", "   ", Hooks, null, "name" },
        { "webhook", new string('n', Connectors.Connectors.NameMaxLength + 1), Hooks, null, "name" },
        { "webhook", "x", "[]", null, "settings" },
        { "webhook", "x", "{}", null, "settings.url" },
        { "webhook", "x", """{"url":"http://hooks.example/plain"}""", null, "settings.url" },
        { "webhook", "x", """{"url":"ftp://hooks.example/x"}""", null, "settings.url" },
        { "webhook", "x", """{"url":"https://user:pw@hooks.example/x"}""", null, "settings.url" },
        { "webhook", "x", Hooks, "my-own-secret", "secret" },
        { "scim", "x", Scim, null, "secret" },
        { "scim", "x", Scim, "", "secret" },
        { "scim", "x", Scim, new string('s', Connectors.Connectors.SecretMaxLength + 1), "secret" },
        { "scim", "x", "{}", "token", "settings.baseUrl" },
        { "scim", "x", """{"baseUrl":"https://scim.example/v2","authentication":"clientCredentials"}""", "client-secret", "settings.tokenEndpoint" },
        { "scim", "x", """{"baseUrl":"https://scim.example/v2","authentication":"clientCredentials","tokenEndpoint":"https://idp.example/token"}""", "s", "settings.clientId" },
        { "scim", "x", """{"baseUrl":"https://scim.example/v2","timeoutSeconds":0}""", "token", "settings.timeoutSeconds" },
        { "scim", "x", """{"baseUrl":"https://scim.example/v2","deprovisioning":"shred"}""", "token", "settings.deprovisioning" },
        { "scim", "x", $$"""{"baseUrl":"https://scim.example/v2","note":"{{new string('p', Connectors.Connectors.SettingsMaxLength)}}"}""", "token", "settings" },
    };
}

public sealed class SqliteConnectorsTests(SqliteProvisioningDatabase database) : ConnectorsTests<SqliteProvisioningDatabase>(database);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConnectorsTests(PostgreSqlProvisioningDatabase database) : ConnectorsTests<PostgreSqlProvisioningDatabase>(database);

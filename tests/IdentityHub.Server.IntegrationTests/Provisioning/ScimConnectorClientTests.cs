using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The SCIM client against the real scimmy server, driven directly with user states (no dispatcher): what it creates,
/// replaces and removes (only what it provisioned), the 409 and 404 paths, the manager reference, the version
/// extension, and OAuth client credentials against the server's own token endpoint.
/// </summary>
[Requires(Prerequisite.Node)]
public sealed class ScimConnectorClientTests(ScimTestServer scim) : IClassFixture<ScimTestServer>, IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddSingleton(TimeProvider.System).AddIdentityHubScim().BuildServiceProvider();

    private ScimConnectorClient Client => _services.GetRequiredService<ScimConnectorClient>();

    [PrerequisiteFact]
    public async Task DeliverAsync_NewUser_CreatesUserWithEnterpriseExtensionRolesAndEntitlements()
    {
        var state = User("E100") with
        {
            Roles = ["approver"],
            Permissions = [new ProvisionedPermission("expense.approve", new Dictionary<string, string> { ["amountLimit"] = "5000" }, "SALES", "Sales")],
        };

        var outcome = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None);

        var delivered = Assert.IsType<DeliveryOutcome.Delivered>(outcome);
        var stored = (await scim.UserByExternalIdAsync(state.UserId))!.Value;
        Assert.Equal(delivered.ExternalId, stored.GetProperty("id").GetString());
        Assert.Equal("E100", stored.GetProperty("userName").GetString());
        Assert.Equal("Test E100", stored.GetProperty("name").GetProperty("formatted").GetString());
        Assert.Equal("e100@example.test", stored.GetProperty("emails")[0].GetProperty("value").GetString());
        Assert.True(stored.GetProperty("emails")[0].GetProperty("primary").GetBoolean());
        var enterprise = stored.GetProperty(ScimUser.EnterpriseSchema);
        Assert.Equal("E100", enterprise.GetProperty("employeeNumber").GetString());
        Assert.Equal("Sales", enterprise.GetProperty("department").GetString());
        Assert.Equal("approver", stored.GetProperty("roles")[0].GetProperty("value").GetString());
        var entitlement = stored.GetProperty("entitlements")[0];
        Assert.Equal("expense.approve", entitlement.GetProperty("value").GetString());
        Assert.Equal("SALES", entitlement.GetProperty("type").GetString());
        Assert.Equal("Sales; amountLimit=5000", entitlement.GetProperty("display").GetString());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_UserAlreadyThereUnderUserName_ReplacesItInsteadOfCreatingASecond()
    {
        var state = User("E101");
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        // IdentityHub forgot the SCIM id: the filter lookup finds the user again.
        var second = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { DisplayName = "Renamed" }, Known(state), CancellationToken.None);

        Assert.Equal(first.ExternalId, Assert.IsType<DeliveryOutcome.Delivered>(second).ExternalId);
        var users = (await scim.StoreAsync()).GetProperty("users").EnumerateArray().Where(u => u.GetProperty("userName").GetString() == "E101").ToList();
        Assert.Single(users);
        Assert.Equal("Renamed", users[0].GetProperty("displayName").GetString());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_KnownIdDeletedDownstream_ForgetsItAndCreatesTheUserAgain()
    {
        var state = User("E102");
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));
        await scim.RemoveBehindBackAsync(first.ExternalId!);

        var second = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state, first.ExternalId), CancellationToken.None);

        var recreated = Assert.IsType<DeliveryOutcome.Delivered>(second);
        Assert.NotEqual(first.ExternalId, recreated.ExternalId);
        Assert.NotNull(await scim.UserByExternalIdAsync(state.UserId));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_DeletedUser_DeletesItAndASecondDeleteIsDone()
    {
        var state = User("E103");
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        var deleted = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { Exists = false }, Known(state, first.ExternalId), CancellationToken.None);
        var again = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { Exists = false }, Known(state, first.ExternalId), CancellationToken.None);

        // Both calls were made (the second was answered 404: already gone); both forget the SCIM id.
        Assert.True(Assert.IsType<DeliveryOutcome.Delivered>(deleted).Removed);
        Assert.True(Assert.IsType<DeliveryOutcome.Delivered>(again).Removed);
        Assert.Null(await scim.UserByExternalIdAsync(state.UserId));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_SuspendedUser_SetsActiveFalseAndKeepsTheUser()
    {
        var state = User("E104");
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { Active = false, Roles = [], Permissions = [] }, Known(state, first.ExternalId), CancellationToken.None);

        Assert.False((await scim.UserByExternalIdAsync(state.UserId))!.Value.GetProperty("active").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_LastRoleLost_DeletesTheUserDownstream()
    {
        var state = User("E105");
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { Roles = [], Permissions = [] }, Known(state, first.ExternalId), CancellationToken.None);

        Assert.Null(await scim.UserByExternalIdAsync(state.UserId));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_GroupsMode_MembershipFollowsTheRolesByPatch()
    {
        var state = User("E106") with { Roles = ["g-approver", "g-viewer"] };
        var connector = Connector(groupsMode: true);
        var first = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.Token, state, Known(state), CancellationToken.None));
        Assert.Equal(["g-approver", "g-viewer"], await scim.GroupsOfAsync(first.ExternalId!));

        var second = await Client.DeliverAsync(connector, ScimTestServer.Token, state with { Roles = ["g-viewer", "g-auditor"] }, Known(state, first.ExternalId), CancellationToken.None);

        Assert.IsType<DeliveryOutcome.Delivered>(second);
        Assert.Equal(["g-auditor", "g-viewer"], await scim.GroupsOfAsync(first.ExternalId!));
        var patches = (await scim.StoreAsync()).GetProperty("requests").EnumerateArray().Count(r => r.GetProperty("method").GetString() == "PATCH");
        Assert.True(patches >= 1, $"leaving a group is a PATCH remove ({patches} seen)");
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_WrongBearerToken_IsPermanentWithTheStatus()
    {
        var state = User("E107");

        var outcome = await Client.DeliverAsync(Connector(), "wrong-token", state, Known(state), CancellationToken.None);

        Assert.Equal(401, Assert.IsType<DeliveryOutcome.Permanent>(outcome).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ConnectionRefused_IsRetried()
    {
        var state = User("E108");
        var connector = new Connector { Name = "nowhere", Kind = ConnectorKind.Scim, Settings = """{"baseUrl":"http://127.0.0.1:9/scim/v2"}""" };

        var outcome = await Client.DeliverAsync(connector, ScimTestServer.Token, state, Known(state), CancellationToken.None);

        Assert.Null(Assert.IsType<DeliveryOutcome.Retry>(outcome).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_NoRoleAndNothingProvisioned_LeavesADownstreamNamesakeAlone()
    {
        var state = User("E110") with { Roles = [], Permissions = [] };
        var local = await scim.AddForeignUserAsync(state.EmployeeNumber!);

        var deleting = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None);
        var deactivating = await Client.DeliverAsync(Connector(extra: Deactivate), ScimTestServer.Token, state, Known(state), CancellationToken.None);

        // Nothing of theirs was ever provisioned: nothing to remove, and it says so rather than claiming a delivery.
        Assert.IsType<DeliveryOutcome.NothingToSend>(deleting);
        Assert.IsType<DeliveryOutcome.NothingToSend>(deactivating);
        var store = await scim.StoreAsync();
        var kept = store.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("id").GetString() == local);
        Assert.True(kept.GetProperty("active").GetBoolean());
        Assert.DoesNotContain(store.GetProperty("requests").EnumerateArray(), r => r.GetProperty("path").GetString()!.Contains(local, StringComparison.Ordinal));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_SuspendedAndNothingProvisioned_LeavesADownstreamNamesakeAlone()
    {
        var state = User("E111") with { Active = false, Roles = [], Permissions = [] };
        var local = await scim.AddForeignUserAsync(state.EmployeeNumber!);

        Assert.IsType<DeliveryOutcome.NothingToSend>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        var kept = (await scim.StoreAsync()).GetProperty("users").EnumerateArray().Single(u => u.GetProperty("id").GetString() == local);
        Assert.True(kept.GetProperty("active").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ProvisionedButItsIdForgotten_FindsItByExternalIdAndRemovesIt()
    {
        var state = User("E112");
        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None));

        // A crash between the target's answer and IdentityHub's record: the SCIM id was never saved.
        await Client.DeliverAsync(Connector(), ScimTestServer.Token, state with { Roles = [], Permissions = [] }, Known(state), CancellationToken.None);

        Assert.Null(await scim.UserByExternalIdAsync(state.UserId));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_UserLeftTheCompany_IsRemovedPerTheDeprovisioningSetting()
    {
        var deleted = User("E113");
        var deactivated = User("E114");
        var keeping = Connector(extra: Deactivate);
        var deletedId = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, deleted, Known(deleted), CancellationToken.None)).ExternalId;
        var deactivatedId = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(keeping, ScimTestServer.Token, deactivated, Known(deactivated), CancellationToken.None)).ExternalId;

        await Client.DeliverAsync(Connector(), ScimTestServer.Token, Departed(deleted), Known(deleted, deletedId), CancellationToken.None);
        await Client.DeliverAsync(keeping, ScimTestServer.Token, Departed(deactivated), Known(deactivated, deactivatedId), CancellationToken.None);

        Assert.Null(await scim.UserByExternalIdAsync(deleted.UserId));
        Assert.False((await scim.UserByExternalIdAsync(deactivated.UserId))!.Value.GetProperty("active").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_CreatedElsewhereBetweenLookupAndPost_409ThenFindsAndReplacesIt()
    {
        var state = User("E115");
        await scim.InjectFaultsAsync(new JsonObject { ["method"] = "POST", ["race"] = true });

        var outcome = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None);

        var delivered = Assert.IsType<DeliveryOutcome.Delivered>(outcome);
        var store = await scim.StoreAsync();
        var stored = Assert.Single(store.GetProperty("users").EnumerateArray(), u => u.GetProperty("userName").GetString() == "E115");
        Assert.Equal(delivered.ExternalId, stored.GetProperty("id").GetString());
        Assert.Contains(store.GetProperty("requests").EnumerateArray(),
            r => r.GetProperty("method").GetString() == "PUT" && r.GetProperty("path").GetString() == $"/scim/v2/Users/{delivered.ExternalId}");
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_409WithNobodyVisible_IsRetriedWithTheStatus()
    {
        var state = User("E116");
        await scim.InjectFaultsAsync(new JsonObject { ["method"] = "POST", ["status"] = 409 });

        var outcome = await Client.DeliverAsync(Connector(), ScimTestServer.Token, state, Known(state), CancellationToken.None);

        Assert.Equal(409, Assert.IsType<DeliveryOutcome.Retry>(outcome).StatusCode);
        Assert.Null(await scim.UserByExternalIdAsync(state.UserId));
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ManagerProvisioned_ReportCarriesTheManagersScimIdOtherwiseNone()
    {
        var manager = User("E117");
        var report = User("E118") with { ManagerUserId = manager.UserId, ManagerEmployeeNumber = "E117" };
        var reportId = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, report, Known(report), CancellationToken.None)).ExternalId;
        Assert.False((await scim.UserByExternalIdAsync(report.UserId))!.Value.GetProperty(ScimUser.EnterpriseSchema).TryGetProperty("manager", out _));

        var managerId = Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(Connector(), ScimTestServer.Token, manager, Known(manager), CancellationToken.None)).ExternalId;
        await Client.DeliverAsync(Connector(), ScimTestServer.Token, report, Known(report, reportId), CancellationToken.None);

        var stored = (await scim.UserByExternalIdAsync(report.UserId))!.Value;
        Assert.Equal(managerId, stored.GetProperty(ScimUser.EnterpriseSchema).GetProperty("manager").GetProperty("value").GetString());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_VersionExtensionOn_SendsTheStateVersionOtherwiseNot()
    {
        var versioned = User("E119") with { Version = 7 };
        var plain = User("E120") with { Version = 7 };

        await Client.DeliverAsync(Connector(extra: ",\"versionExtension\":true"), ScimTestServer.Token, versioned, Known(versioned), CancellationToken.None);
        await Client.DeliverAsync(Connector(), ScimTestServer.Token, plain, Known(plain), CancellationToken.None);

        var stored = (await scim.UserByExternalIdAsync(versioned.UserId))!.Value;
        Assert.Contains(ScimUser.ProvisioningSchema, stored.GetProperty("schemas").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(7, stored.GetProperty(ScimUser.ProvisioningSchema).GetProperty("version").GetInt64());
        Assert.False((await scim.UserByExternalIdAsync(plain.UserId))!.Value.TryGetProperty(ScimUser.ProvisioningSchema, out _));
        Assert.Equal(7, (await scim.StoreAsync()).GetProperty("versions").GetProperty(versioned.UserId).GetInt64());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ClientCredentials_FetchesOneTokenAndReusesIt()
    {
        await using var oauth = await ScimTestServer.StartAsync(oauth: true);
        var connector = Connector(oauth);
        var (first, second) = (User("E130"), User("E131"));

        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, first, Known(first), CancellationToken.None));
        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, second, Known(second), CancellationToken.None));

        Assert.NotNull(await oauth.UserByExternalIdAsync(second.UserId));
        Assert.Equal(1, (await oauth.StoreAsync()).GetProperty("tokenRequests").GetInt32());
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_CachedTokenRevokedAtTheTokenServer_FetchesANewOneAndDeliversOnce()
    {
        await using var oauth = await ScimTestServer.StartAsync(oauth: true);
        var connector = Connector(oauth);
        var (first, second) = (User("E132"), User("E133"));
        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, first, Known(first), CancellationToken.None));

        await oauth.RevokeOAuthTokensAsync();
        var outcome = await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, second, Known(second), CancellationToken.None);

        Assert.IsType<DeliveryOutcome.Delivered>(outcome);
        var store = await oauth.StoreAsync();
        Assert.Single(store.GetProperty("users").EnumerateArray(), u => u.GetProperty("externalId").GetString() == second.UserId);
        Assert.Equal(2, store.GetProperty("tokenRequests").GetInt32());
        // The peer's own log: exactly one request refused (the revoked token's), then the same request again with the new token.
        var scim = (await oauth.RequestsAsync()).Where(r => r.Path.StartsWith("/scim/v2", StringComparison.Ordinal)).ToList();
        var refused = Assert.Single(scim, r => r.Status == 401);
        var retried = scim[scim.IndexOf(refused) + 1];
        Assert.Equal((refused.Method, refused.Path), (retried.Method, retried.Path));
        Assert.True(retried.Status is >= 200 and < 300, $"the retry with the new token was answered {retried.Status}");
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ShortLivedTokens_RenewedInsteadOfSentExpired()
    {
        await using var oauth = await ScimTestServer.StartAsync(oauth: true, oauthTokenSeconds: 2);
        var connector = Connector(oauth);
        var (first, second) = (User("E134"), User("E135"));

        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, first, Known(first), CancellationToken.None));
        // Past the first token's lifetime (a lower bound: a slow machine only waits longer).
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.IsType<DeliveryOutcome.Delivered>(await Client.DeliverAsync(connector, ScimTestServer.OAuthClientSecret, second, Known(second), CancellationToken.None));

        Assert.Equal(2, (await oauth.StoreAsync()).GetProperty("tokenRequests").GetInt32());
        // The peer's own log shows no 401: the expired token was renewed before use, never sent and refused first.
        var requests = await oauth.RequestsAsync();
        Assert.Contains(requests, r => r.Method == "POST" && r.Path == "/scim/v2/Users" && r.Status == 201);
        Assert.DoesNotContain(requests, r => r.Status == 401);
    }

    [PrerequisiteFact]
    public async Task DeliverAsync_ClientCredentialsWrongSecret_IsPermanentWithTheTokenEndpointsStatus()
    {
        await using var oauth = await ScimTestServer.StartAsync(oauth: true);
        var state = User("E136");

        var outcome = await Client.DeliverAsync(Connector(oauth), "not-the-client-secret", state, Known(state), CancellationToken.None);

        var permanent = Assert.IsType<DeliveryOutcome.Permanent>(outcome);
        Assert.Equal(401, permanent.StatusCode);
        Assert.Contains("token endpoint", permanent.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-client-secret", permanent.Error, StringComparison.Ordinal);
    }

    public void Dispose() => _services.Dispose();

    private const string Deactivate = ",\"deprovisioning\":\"deactivate\"";

    private Connector Connector(bool groupsMode = false, string extra = "") =>
        new() { Id = Guid.NewGuid(), Name = "scimmy", Kind = ConnectorKind.Scim, Settings = scim.Settings(groupsMode, extra) };

    private static Connector Connector(ScimTestServer server) =>
        new() { Id = Guid.NewGuid(), Name = "scimmy with OAuth", Kind = ConnectorKind.Scim, Settings = server.Settings() };

    private static ProvisionedUser Departed(ProvisionedUser state) => state with { Active = false, Roles = [], Permissions = [], Left = true };

    private static ProvisionedUser User(string employeeNumber) => new(
        Guid.NewGuid().ToString(), employeeNumber.ToLowerInvariant(), $"Test {employeeNumber}", $"{employeeNumber.ToLowerInvariant()}@example.test", "+86 10 5555 0100",
        employeeNumber, "SALES", "Sales", null, null, Active: true, Exists: true, ["viewer"], [], Version: 1);

    private static ConnectorUserState Known(ProvisionedUser state, string? externalId = null) =>
        new() { UserId = state.UserId, ExternalId = externalId };
}

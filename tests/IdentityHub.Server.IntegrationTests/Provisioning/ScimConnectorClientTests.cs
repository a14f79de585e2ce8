using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>The SCIM client against the real scimmy server, driven directly with user states (no dispatcher).</summary>
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

        Assert.IsType<DeliveryOutcome.Delivered>(deleted);
        Assert.IsType<DeliveryOutcome.Delivered>(again);
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

    public void Dispose() => _services.Dispose();

    private Connector Connector(bool groupsMode = false) =>
        new() { Id = Guid.NewGuid(), Name = "scimmy", Kind = ConnectorKind.Scim, Settings = scim.Settings(groupsMode) };

    private static ProvisionedUser User(string employeeNumber) => new(
        Guid.NewGuid().ToString(), employeeNumber.ToLowerInvariant(), $"Test {employeeNumber}", $"{employeeNumber.ToLowerInvariant()}@example.test", "+86 10 5555 0100",
        employeeNumber, "SALES", "Sales", null, null, Active: true, Exists: true, ["viewer"], [], Version: 1);

    private static ConnectorUserState Known(ProvisionedUser state, string? externalId = null) =>
        new() { UserId = state.UserId, ExternalId = externalId };
}

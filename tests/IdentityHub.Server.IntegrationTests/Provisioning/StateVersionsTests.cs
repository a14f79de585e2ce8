using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.State;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The README's webhook event table, row by row: from what the receiver was told before (each earlier state delivered,
/// or, marked <c>!</c>, sent but failed: it may or may not have arrived) to the user's state now, which event the next
/// delivery carries (<c>none</c>: nothing is sent) and whether it is a new version.
/// </summary>
public sealed class StateVersionsTests
{
    /// <summary>States by name: what a user's state for one application can be (suspended and departed users hold nothing).</summary>
    private static ProvisionedUser State(string name) => name switch
    {
        // Active, without a right in the application: outside the connector's scope.
        "outside" => User(active: true),
        "outside-renamed" => User(active: true, displayName: "Ada Lovelace-King"),
        "member" => User(active: true, roles: ["member"]),
        "member-renamed" => User(active: true, roles: ["member"], displayName: "Ada Lovelace-King"),
        "member-moved" => User(active: true, roles: ["member"], department: "EAST"),
        "approver" => User(active: true, roles: ["approver", "member"]),
        "suspended" => User(active: false),
        "suspended-renamed" => User(active: false, displayName: "Ada Lovelace-King"),
        "left" => User(active: false) with { Left = true },
        "deleted" => new ProvisionedUser("u1", "", "", null, null, null, null, null, null, null, Active: false, Exists: false, [], [], 0),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such state"),
    };

    private static ProvisionedUser User(bool active, string[]? roles = null, string displayName = "Ada Lovelace", string department = "SALES") =>
        new("u1", "ada", displayName, "ada@example.test", null, "E1", department, department, null, null, active, Exists: true, roles ?? [], [], 0);

    [Theory]
    // user.created: the user enters the application's scope (first role there) or comes back into it.
    [InlineData("", "member", ProvisioningEvents.UserCreated)]
    [InlineData("outside", "member", ProvisioningEvents.UserCreated)]
    [InlineData("suspended", "member", ProvisioningEvents.UserCreated)]
    [InlineData("member,outside", "member", ProvisioningEvents.UserCreated)]
    [InlineData("member,outside,outside-renamed", "member-renamed", ProvisioningEvents.UserCreated)]
    [InlineData("member,left", "member", ProvisioningEvents.UserCreated)]
    [InlineData("member,deleted", "member", ProvisioningEvents.UserCreated)]
    [InlineData("member,outside,suspended", "member", ProvisioningEvents.UserCreated)]
    // user.updated: their profile changed (name, email, department, manager...).
    [InlineData("member", "member-renamed", ProvisioningEvents.UserUpdated)]
    [InlineData("member", "member-moved", ProvisioningEvents.UserUpdated)]
    [InlineData("member,approver", "approver", ProvisioningEvents.AccessChanged)] // the same state again: same version, same event
    // access.changed: their roles or permissions there changed (also on reactivation).
    [InlineData("member", "approver", ProvisioningEvents.AccessChanged)]
    [InlineData("approver", "member", ProvisioningEvents.AccessChanged)]
    [InlineData("member,suspended", "member", ProvisioningEvents.AccessChanged)]
    [InlineData("member,suspended", "approver", ProvisioningEvents.AccessChanged)]
    // user.disabled: they were suspended (assignments kept), a known user stays known.
    [InlineData("member", "suspended", ProvisioningEvents.UserDisabled)]
    [InlineData("approver", "suspended", ProvisioningEvents.UserDisabled)]
    [InlineData("member,suspended", "suspended-renamed", ProvisioningEvents.UserDisabled)]
    // user.deleted: they lost their last role there, or left the company (or were deleted from IdentityHub).
    [InlineData("member", "outside", ProvisioningEvents.UserDeleted)]
    [InlineData("approver", "outside", ProvisioningEvents.UserDeleted)]
    [InlineData("member", "left", ProvisioningEvents.UserDeleted)]
    [InlineData("member,suspended", "left", ProvisioningEvents.UserDeleted)]
    [InlineData("member,suspended", "outside", ProvisioningEvents.UserDeleted)]
    [InlineData("member", "deleted", ProvisioningEvents.UserDeleted)]
    // none: outside the scope and unknown to the receiver (never told, or told they left), nothing is sent.
    [InlineData("", "outside", ProvisioningEvents.None)]
    [InlineData("", "suspended", ProvisioningEvents.None)]
    [InlineData("", "left", ProvisioningEvents.None)]
    [InlineData("", "deleted", ProvisioningEvents.None)]
    [InlineData("outside", "outside-renamed", ProvisioningEvents.None)]
    [InlineData("member,outside", "outside-renamed", ProvisioningEvents.None)]
    [InlineData("member,outside", "suspended", ProvisioningEvents.None)]
    [InlineData("member,outside", "left", ProvisioningEvents.None)]
    [InlineData("member,left", "suspended", ProvisioningEvents.None)]
    [InlineData("member,deleted", "outside", ProvisioningEvents.None)]
    // A version that failed may or may not have arrived: introduce unless the receiver surely knows the user, say goodbye if it may.
    [InlineData("member!", "member", ProvisioningEvents.UserCreated)] // the retry of the same state: same version, same event
    [InlineData("member!", "member-renamed", ProvisioningEvents.UserCreated)]
    [InlineData("outside,member!", "member-renamed", ProvisioningEvents.UserCreated)]
    [InlineData("member!", "outside", ProvisioningEvents.UserDeleted)]
    [InlineData("member,outside!", "member", ProvisioningEvents.UserCreated)]
    [InlineData("member,outside!", "outside-renamed", ProvisioningEvents.UserDeleted)]
    [InlineData("member,member-renamed!", "member", ProvisioningEvents.UserUpdated)]
    [InlineData("member,approver!", "member", ProvisioningEvents.AccessChanged)]
    [InlineData("member,suspended!", "member", ProvisioningEvents.AccessChanged)]
    [InlineData("member,suspended!", "left", ProvisioningEvents.UserDeleted)]
    public void Assign_FromWhatTheReceiverWasToldToTheStateNow_CarriesTheReadmesEvent(string history, string now, string expected)
    {
        var known = new ConnectorUserState { ConnectorId = Guid.NewGuid(), UserId = "u1" };
        var earlier = history.Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (var step in earlier)
        {
            StateVersions.Assign(known, State(step.TrimEnd('!')));
            if (!step.EndsWith('!'))
            {
                StateVersions.Delivered(known);
            }
        }

        var last = known.Version;

        var assigned = StateVersions.Assign(known, State(now));

        Assert.Equal(expected, ProvisioningEvents.Of(known));
        // Versions only grow; the same state as the last one keeps its version (a retry or duplicate is harmless).
        var same = earlier.LastOrDefault()?.TrimEnd('!') == now;
        Assert.Equal(same ? last : last + 1, assigned.Version);
        Assert.Equal(assigned.Version, known.Version);
    }

    [Fact]
    public void Delivered_AfterAssign_IsWhatTheNextEventIsReckonedFrom()
    {
        var known = new ConnectorUserState { ConnectorId = Guid.NewGuid(), UserId = "u1" };
        StateVersions.Assign(known, State("member"));
        Assert.Null(known.DeliveredState);

        StateVersions.Delivered(known);

        Assert.Equal(known.SentState, known.DeliveredState);
        StateVersions.Assign(known, State("member-renamed"));
        Assert.Equal(ProvisioningEvents.UserUpdated, ProvisioningEvents.Of(known));
    }
}

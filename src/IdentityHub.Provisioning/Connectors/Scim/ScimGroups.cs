using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>
/// Groups mode: each application role is a SCIM Group (found by displayName, created when missing); a
/// user's memberships follow their roles through PATCH (RFC 7644 §3.5.2), never by replacing the member list.
/// </summary>
public static class ScimGroups
{
    public const string GroupsEndpoint = "/Groups";
    public const string GroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
    private const string PatchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

    /// <summary>Adds the user to the groups of <paramref name="roles"/> and removes them from every other group they are in.</summary>
    public static async Task SyncMembershipAsync(ScimSession session, string scimUserId, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(roles);
        var current = await session.FindAsync(GroupsEndpoint, ScimFilter.Equal("members.value", scimUserId), cancellationToken);
        var memberOf = current.Select(g => (Id: ScimConnectorClient.IdOf(g), Name: Name(g))).Where(g => g.Id is not null).ToList();
        foreach (var (id, name) in memberOf.Where(g => !roles.Contains(g.Name, StringComparer.Ordinal)))
        {
            await session.SendAsync(HttpMethod.Patch, $"{GroupsEndpoint}/{Uri.EscapeDataString(id!)}", RemoveMember(scimUserId), cancellationToken, 404);
        }

        foreach (var role in roles.Where(r => !memberOf.Any(g => g.Name == r)))
        {
            await AddMemberAsync(session, role, scimUserId, cancellationToken);
        }
    }

    /// <summary>The display names of the groups the user is a member of (for reconciliation).</summary>
    public static async Task<IReadOnlyList<string>> MembershipAsync(ScimSession session, string scimUserId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        var groups = await session.FindAsync(GroupsEndpoint, ScimFilter.Equal("members.value", scimUserId), cancellationToken);
        return [.. groups.Select(Name).Order(StringComparer.Ordinal)];
    }

    private static async Task AddMemberAsync(ScimSession session, string role, string scimUserId, CancellationToken cancellationToken)
    {
        var group = (await session.FindAsync(GroupsEndpoint, ScimFilter.Equal("displayName", role), cancellationToken)).Select(g => ScimConnectorClient.IdOf(g)).FirstOrDefault(id => id is not null);
        if (group is null)
        {
            // 409 = created meanwhile.
            var created = await session.SendAsync(HttpMethod.Post, GroupsEndpoint, NewGroup(role, scimUserId), cancellationToken, 409);
            if (created.Status != 409)
            {
                return;
            }

            group = (await session.FindAsync(GroupsEndpoint, ScimFilter.Equal("displayName", role), cancellationToken)).Select(g => ScimConnectorClient.IdOf(g)).FirstOrDefault(id => id is not null)
                ?? throw new ScimCallException(new DeliveryOutcome.Retry($"POST {GroupsEndpoint}: 409, but no group named like the role is visible yet.", 409));
        }

        await session.SendAsync(HttpMethod.Patch, $"{GroupsEndpoint}/{Uri.EscapeDataString(group)}", AddMember(scimUserId), cancellationToken);
    }

    /// <summary>RFC 7644 §3.3: a new Group named after the role, with the user as its first member.</summary>
    public static JsonObject NewGroup(string role, string scimUserId) => new()
    {
        ["schemas"] = new JsonArray(GroupSchema),
        ["displayName"] = role,
        ["members"] = new JsonArray(new JsonObject { ["value"] = scimUserId }),
    };

    /// <summary>RFC 7644 §3.5.2.1: "add" to a multi-valued attribute appends the values.</summary>
    public static JsonObject AddMember(string scimUserId) =>
        PatchOf(new JsonObject { ["op"] = "add", ["path"] = "members", ["value"] = new JsonArray(new JsonObject { ["value"] = scimUserId }) });

    /// <summary>RFC 7644 §3.5.2.2: "remove" with a value filter on the members path, so other members stay.</summary>
    public static JsonObject RemoveMember(string scimUserId) =>
        PatchOf(new JsonObject { ["op"] = "remove", ["path"] = $"members[{ScimFilter.Equal("value", scimUserId)}]" });

    private static JsonObject PatchOf(JsonObject operation) => new()
    {
        ["schemas"] = new JsonArray(PatchSchema),
        ["Operations"] = new JsonArray(operation),
    };

    private static string Name(JsonElement group) =>
        group.TryGetProperty("displayName", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "";
}

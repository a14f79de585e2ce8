using System.Text.Json.Nodes;
using IdentityHub.Core.Inbound;
using IdentityHub.Data.Directory;

namespace IdentityHub.Server.Scim;

/// <summary>A department as SCIM shows it: the department, its parent's name, and the people in it (the members).</summary>
public sealed record ScimGroupView(Department Department, string? ParentName, IReadOnlyList<(string Id, string DisplayName)> Members);

/// <summary>
/// A department as a SCIM Group (RFC 7643 §4.2): members are the people whose department it is; the parent and code
/// travel in IdentityHub's Group extension.
/// </summary>
public static class ScimGroupMapping
{
    public static readonly string[] Schemas = [ScimSchemas.Group, ScimSchemas.HubGroup];

    public static readonly ScimAttributeMap<Department> Attributes = new ScimAttributeMap<Department>()
        .Add(d => d.Id.ToString(), ScimAttributeType.Text, false, "id")
        .Add(d => d.ExternalId, ScimAttributeType.Text, true, "externalId")
        .Add(d => d.Name, ScimAttributeType.Text, false, "displayName")
        .Add(d => d.Code, ScimAttributeType.Text, true, "code")
        .Add(d => d.CreatedAt, ScimAttributeType.DateTime, false, "meta.created")
        .Add(d => d.UpdatedAt, ScimAttributeType.DateTime, false, "meta.lastModified");

    public static JsonObject ToScim(ScimGroupView view, string baseUrl, bool withMembers = true)
    {
        ArgumentNullException.ThrowIfNull(view);
        var department = view.Department;
        var scim = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.Group, ScimSchemas.HubGroup),
            ["id"] = department.Id.ToString(),
        };
        if (department.ExternalId is not null)
        {
            scim["externalId"] = department.ExternalId;
        }

        scim["displayName"] = department.Name;
        if (withMembers)
        {
            scim["members"] = new JsonArray([.. view.Members.Select(m => (JsonNode)new JsonObject
            {
                ["value"] = m.Id,
                ["display"] = m.DisplayName,
                ["type"] = "User",
                ["$ref"] = $"{baseUrl}/Users/{m.Id}",
            })]);
        }

        var hub = new JsonObject { ["code"] = department.Code };
        if (department.ParentId is { } parentId)
        {
            hub["parent"] = new JsonObject { ["value"] = parentId.ToString(), ["display"] = view.ParentName, ["$ref"] = $"{baseUrl}/Groups/{parentId}" };
        }

        scim[ScimSchemas.HubGroup] = hub;
        scim["meta"] = ScimUserMapping.Meta("Group", department.CreatedAt, department.UpdatedAt, $"{baseUrl}/Groups/{department.Id}");
        return scim;
    }

    public static SourceDepartment ToDepartment(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ScimJson.RequireSchemas(body, Schemas, ScimSchemas.Group);
        var hub = ScimJson.Complex(body, ScimSchemas.HubGroup);
        var parent = hub is null ? null : ScimJson.Get(hub, "parent") switch
        {
            JsonObject parentObject => ScimJson.Text(parentObject, "value"),
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            null => null,
            _ => throw ScimException.InvalidValue("'parent' must be an object with a \"value\"."),
        };
        return new SourceDepartment(
            Blank(ScimJson.Text(body, "externalId")),
            ScimJson.Text(body, "displayName"),
            Blank(parent),
            Blank(hub is null ? null : ScimJson.Text(hub, "code")));
    }

    /// <summary>The user ids a Group body lists as members, or null when it has no <c>members</c> attribute.</summary>
    public static HashSet<string>? MembersOf(JsonObject body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var members = ScimJson.Array(body, "members");
        return members?.Select(m => m is JsonObject member && ScimJson.Text(member, "value") is { } value
                ? value
                : throw ScimException.InvalidValue("Each member is an object with the user's id as \"value\"."))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

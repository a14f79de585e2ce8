using System.Globalization;
using System.Text.Json.Nodes;
using IdentityHub.Core;
using IdentityHub.Core.Inbound;
using IdentityHub.Data.Directory;

namespace IdentityHub.Server.Scim;

/// <summary>A person as SCIM shows them: the account, their department's name and their manager's name.</summary>
public sealed record ScimUserView(UserAccount User, string? DepartmentName, string? ManagerDisplayName);

/// <summary>
/// A person as a SCIM User (RFC 7643 §4.1) with the enterprise extension (§4.3) and IdentityHub's own read-only
/// extension, and back into the <see cref="SourcePerson"/> the organisation intake writes.
/// </summary>
public static class ScimUserMapping
{
    public static readonly string[] Schemas = [ScimSchemas.User, ScimSchemas.EnterpriseUser, ScimSchemas.HubUser];

    /// <summary>The attributes a filter or sortBy may name, translated for the database.</summary>
    public static readonly ScimAttributeMap<UserAccount> Attributes = new ScimAttributeMap<UserAccount>()
        .Add(u => u.Id, ScimAttributeType.Text, true, "id")
        .Add(u => u.ExternalId, ScimAttributeType.Text, true, "externalId")
        .Add(u => u.UserName, ScimAttributeType.Text, false, "userName")
        .Add(u => u.DisplayName, ScimAttributeType.Text, false, "displayName", "name.formatted")
        .Add(u => u.Email, ScimAttributeType.Text, false, "emails", "emails.value")
        .Add(u => "work", ScimAttributeType.Text, false, "emails.type", "phoneNumbers.type")
        .Add(u => u.PhoneNumber, ScimAttributeType.Text, false, "phoneNumbers", "phoneNumbers.value")
        .Add(u => u.Status == UserStatus.Active, ScimAttributeType.Flag, false, "active")
        .Add(u => u.EmployeeNumber, ScimAttributeType.Text, true, "employeeNumber")
        .Add(u => u.Department!.Name, ScimAttributeType.Text, false, "department")
        .Add(u => u.ManagerId, ScimAttributeType.Text, true, "manager.value")
        .Add(u => u.CreatedAt, ScimAttributeType.DateTime, false, "meta.created")
        .Add(u => u.UpdatedAt, ScimAttributeType.DateTime, false, "meta.lastModified");

    /// <summary>RFC 7644 §3.14: a weak entity tag from the record's revision.</summary>
    public static string ETagOf(DateTimeOffset updatedAt) => "W/" + Revision.ETag(updatedAt);

    public static JsonObject ToScim(ScimUserView view, string baseUrl)
    {
        ArgumentNullException.ThrowIfNull(view);
        var user = view.User;
        var location = $"{baseUrl}/Users/{user.Id}";
        var scim = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.User, ScimSchemas.EnterpriseUser, ScimSchemas.HubUser),
            ["id"] = user.Id,
        };
        if (user.ExternalId is not null)
        {
            scim["externalId"] = user.ExternalId;
        }

        scim["userName"] = user.UserName;
        scim["displayName"] = user.DisplayName;
        scim["name"] = new JsonObject { ["formatted"] = user.DisplayName };
        scim["active"] = user.Status == UserStatus.Active;
        if (user.Email is not null)
        {
            scim["emails"] = new JsonArray(new JsonObject { ["value"] = user.Email, ["type"] = "work", ["primary"] = true });
        }

        if (user.PhoneNumber is not null)
        {
            scim["phoneNumbers"] = new JsonArray(new JsonObject { ["value"] = user.PhoneNumber, ["type"] = "work", ["primary"] = true });
        }

        var enterprise = new JsonObject();
        if (user.EmployeeNumber is not null)
        {
            enterprise["employeeNumber"] = user.EmployeeNumber;
        }

        if (view.DepartmentName is not null)
        {
            enterprise["department"] = view.DepartmentName;
        }

        if (user.ManagerId is not null)
        {
            enterprise["manager"] = new JsonObject
            {
                ["value"] = user.ManagerId,
                ["displayName"] = view.ManagerDisplayName,
                ["$ref"] = $"{baseUrl}/Users/{user.ManagerId}",
            };
        }
        else if (user.PendingManagerRef is not null)
        {
            // A manager the source named who is not in yet: shown as named, linked when they arrive.
            enterprise["manager"] = new JsonObject { ["value"] = user.PendingManagerRef };
        }

        scim[ScimSchemas.EnterpriseUser] = enterprise;
        var hub = new JsonObject { ["status"] = user.Status.ToString() };
        if (user.DepartmentId is { } departmentId)
        {
            hub["departmentId"] = departmentId.ToString();
        }

        scim[ScimSchemas.HubUser] = hub;
        scim["meta"] = Meta("User", user.CreatedAt, user.UpdatedAt, location);
        return scim;
    }

    public static JsonObject Meta(string resourceType, DateTimeOffset created, DateTimeOffset lastModified, string location) => new()
    {
        ["resourceType"] = resourceType,
        ["created"] = created.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["lastModified"] = lastModified.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
        ["location"] = location,
        ["version"] = ETagOf(lastModified),
    };

    /// <summary>
    /// The person a SCIM User body describes. <paramref name="current"/> is the person now (PUT, PATCH): an unchanged
    /// department name or manager keeps our reference by id, so a name shared by two departments still round-trips.
    /// </summary>
    public static SourcePerson ToPerson(JsonObject body, ScimUserView? current)
    {
        ArgumentNullException.ThrowIfNull(body);
        ScimJson.RequireSchemas(body, Schemas, ScimSchemas.User);
        var name = ScimJson.Complex(body, "name");
        var displayName = ScimJson.Text(body, "displayName") ?? (name is null ? null : ScimJson.Text(name, "formatted")
            ?? JoinNames(ScimJson.Text(name, "givenName"), ScimJson.Text(name, "familyName")));
        var enterprise = ScimJson.Complex(body, ScimSchemas.EnterpriseUser);
        var department = enterprise is null ? null : ScimJson.Text(enterprise, "department");
        // A source cannot take someone out of every department (it writes only inside its subtrees): a body without one keeps theirs.
        if (current is not null && (department is null || department == current.DepartmentName) && current.User.DepartmentId is { } departmentId)
        {
            department = departmentId.ToString();
        }

        string? manager = null;
        switch (enterprise is null ? null : ScimJson.Get(enterprise, "manager"))
        {
            case JsonObject managerObject:
                manager = ScimJson.Text(managerObject, "value");
                break;
            case JsonValue managerValue when managerValue.TryGetValue<string>(out var text):
                manager = text;
                break;
            case null:
                break;
            default:
                throw ScimException.InvalidValue("'manager' must be an object with a \"value\".");
        }

        var active = ScimJson.Flag(body, "active") ?? (current is null || current.User.Status == UserStatus.Active);
        return new SourcePerson(
            Blank(ScimJson.Text(body, "externalId")),
            Blank(enterprise is null ? null : ScimJson.Text(enterprise, "employeeNumber")),
            Blank(ScimJson.Text(body, "userName")),
            Blank(displayName),
            Blank(Primary(body, "emails")),
            Blank(Primary(body, "phoneNumbers")),
            Blank(department),
            Blank(manager),
            active);
    }

    /// <summary>The person as they are now, as a source would send them, with another department (a group membership change).</summary>
    public static SourcePerson PersonOf(UserAccount user, string? departmentRef)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new SourcePerson(user.ExternalId, user.EmployeeNumber, user.UserName, user.DisplayName, user.Email, user.PhoneNumber,
            departmentRef, user.ManagerId ?? user.PendingManagerRef, user.Status == UserStatus.Active);
    }

    /// <summary>The value IdentityHub keeps of a multi-valued attribute: the primary one, else the work one, else the first.</summary>
    private static string? Primary(JsonObject body, string attribute)
    {
        var values = ScimJson.Array(body, attribute);
        if (values is null || values.Count == 0)
        {
            return null;
        }

        var objects = values.Select(v => v as JsonObject ?? throw ScimException.InvalidValue($"Each of '{attribute}' is an object with a \"value\".")).ToList();
        var chosen = objects.FirstOrDefault(v => ScimJson.Flag(v, "primary") == true)
            ?? objects.FirstOrDefault(v => string.Equals(ScimJson.Text(v, "type"), "work", StringComparison.OrdinalIgnoreCase))
            ?? objects[0];
        return ScimJson.Text(chosen, "value");
    }

    private static string? JoinNames(string? given, string? family) =>
        given is null && family is null ? null : string.Join(' ', new[] { given, family }.OfType<string>());

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

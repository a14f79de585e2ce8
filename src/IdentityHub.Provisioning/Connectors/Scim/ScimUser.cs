using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>One SCIM entitlement (RFC 7643 §4.1.2): value = permission name, type = scope department code, display = scope and parameters.</summary>
public sealed record ScimEntitlement(string Value, string? Type, string? Display);

/// <summary>
/// The attributes of a SCIM User that IdentityHub owns, in a comparable shape: what we send is built from
/// it, and what reconciliation reads downstream is parsed into it, so both sides compare field by field.
/// </summary>
public sealed record ScimUser(
    string UserName,
    string ExternalId,
    string DisplayName,
    string? Email,
    string? PhoneNumber,
    bool Active,
    string? EmployeeNumber,
    string? Department,
    string? ManagerId,
    IReadOnlyList<string> Roles,
    IReadOnlyList<ScimEntitlement> Entitlements)
{
    public const string UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    /// <summary>IdentityHub's vendor extension (RFC 7643 §3.3): <c>version</c>, the per-(connector, user) state version.</summary>
    public const string ProvisioningSchema = "urn:identityhub:params:scim:schemas:extension:2.0:Provisioning";

    /// <summary>The state's version, sent in <see cref="ProvisioningSchema"/> when the connector asks for it; not compared by reconciliation.</summary>
    public long? Version { get; init; }

    /// <summary>The user as the connector's settings say it should look downstream; <paramref name="managerId"/> is the manager's SCIM id, if known.</summary>
    public static ScimUser From(ProvisionedUser state, ScimSettings settings, string? managerId)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(settings);
        return new ScimUser(
            UserNameOf(state, settings),
            state.UserId,
            state.DisplayName,
            Blank(state.Email),
            Blank(state.PhoneNumber),
            state.Active,
            Blank(state.EmployeeNumber),
            Blank(state.DepartmentName),
            managerId,
            [.. state.Roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            [.. state.Permissions.Select(EntitlementOf).Distinct().OrderBy(e => e.Value, StringComparer.Ordinal).ThenBy(e => e.Type, StringComparer.Ordinal).ThenBy(e => e.Display, StringComparer.Ordinal)])
        {
            Version = settings.VersionExtension ? state.Version : null,
        };
    }

    /// <summary>The SCIM <c>userName</c>: the employee number by default (falling back to the user name when a user has none).</summary>
    public static string UserNameOf(ProvisionedUser state, ScimSettings settings)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(settings);
        return settings.UserName == ScimUserNameSource.EmployeeNumber && Blank(state.EmployeeNumber) is { } number ? number : state.UserName;
    }

    /// <summary>
    /// A permission as an entitlement: the name as value; the scope's department code as type (absent when
    /// it applies everywhere); the department name and sorted parameters ("Sales; amountLimit=5000") as display.
    /// </summary>
    public static ScimEntitlement EntitlementOf(ProvisionedPermission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        IEnumerable<string> parts = [.. permission.DepartmentName is { Length: > 0 } name ? [name] : Array.Empty<string>(),
            .. permission.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")];
        var display = string.Join("; ", parts);
        return new ScimEntitlement(permission.Name, Blank(permission.DepartmentCode), display.Length == 0 ? null : display);
    }

    /// <summary>The body of a POST or PUT (RFC 7644 §3.3, §3.5.1): core User plus the enterprise extension (RFC 7643 §4.3), and the version extension when set.</summary>
    public JsonObject ToResource()
    {
        var resource = new JsonObject
        {
            ["schemas"] = new JsonArray(UserSchema, EnterpriseSchema),
            ["userName"] = UserName,
            ["externalId"] = ExternalId,
            ["name"] = new JsonObject { ["formatted"] = DisplayName },
            ["displayName"] = DisplayName,
            ["active"] = Active,
            ["emails"] = Email is null ? new JsonArray() : new JsonArray(new JsonObject { ["value"] = Email, ["type"] = "work", ["primary"] = true }),
            ["phoneNumbers"] = PhoneNumber is null ? new JsonArray() : new JsonArray(new JsonObject { ["value"] = PhoneNumber, ["type"] = "work" }),
            ["roles"] = new JsonArray([.. Roles.Select(r => (JsonNode)new JsonObject { ["value"] = r })]),
            ["entitlements"] = new JsonArray([.. Entitlements.Select(EntitlementNode)]),
        };
        var enterprise = new JsonObject();
        if (EmployeeNumber is not null)
        {
            enterprise["employeeNumber"] = EmployeeNumber;
        }

        if (Department is not null)
        {
            enterprise["department"] = Department;
        }

        if (ManagerId is not null)
        {
            enterprise["manager"] = new JsonObject { ["value"] = ManagerId };
        }

        resource[EnterpriseSchema] = enterprise;
        if (Version is { } version)
        {
            resource["schemas"]!.AsArray().Add(ProvisioningSchema);
            resource[ProvisioningSchema] = new JsonObject { ["version"] = version };
        }

        return resource;
    }

    /// <summary>Reads a downstream User resource into the comparable shape (missing attributes become null or empty).</summary>
    public static ScimUser Parse(JsonElement resource)
    {
        var enterprise = resource.TryGetProperty(EnterpriseSchema, out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        return new ScimUser(
            String(resource, "userName") ?? "",
            String(resource, "externalId") ?? "",
            String(resource, "displayName") ?? "",
            Primary(resource, "emails"),
            Primary(resource, "phoneNumbers"),
            !resource.TryGetProperty("active", out var active) || active.ValueKind != JsonValueKind.False,
            String(enterprise, "employeeNumber"),
            String(enterprise, "department"),
            enterprise.ValueKind == JsonValueKind.Object && enterprise.TryGetProperty("manager", out var m) ? String(m, "value") : null,
            [.. Items(resource, "roles").Select(r => String(r, "value")).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
            [.. Items(resource, "entitlements").Where(x => String(x, "value") is not null)
                .Select(x => new ScimEntitlement(String(x, "value")!, String(x, "type"), String(x, "display")))
                .Distinct().OrderBy(x => x.Value, StringComparer.Ordinal).ThenBy(x => x.Type, StringComparer.Ordinal).ThenBy(x => x.Display, StringComparer.Ordinal)]);
    }

    /// <summary>The names of the attributes whose values differ (SCIM attribute names, for the drift report).</summary>
    public IReadOnlyList<string> Differences(ScimUser downstream)
    {
        ArgumentNullException.ThrowIfNull(downstream);
        var fields = new List<string>();
        void Check(string field, bool same)
        {
            if (!same)
            {
                fields.Add(field);
            }
        }

        // RFC 7643 §4.1.1: userName is case-insensitive; the rest compare exactly.
        Check("userName", string.Equals(UserName, downstream.UserName, StringComparison.OrdinalIgnoreCase));
        Check("externalId", ExternalId == downstream.ExternalId);
        Check("displayName", DisplayName == downstream.DisplayName);
        Check("emails", string.Equals(Email, downstream.Email, StringComparison.OrdinalIgnoreCase));
        Check("phoneNumbers", PhoneNumber == downstream.PhoneNumber);
        Check("active", Active == downstream.Active);
        Check("employeeNumber", EmployeeNumber == downstream.EmployeeNumber);
        Check("department", Department == downstream.Department);
        Check("manager", ManagerId == downstream.ManagerId);
        Check("roles", Roles.SequenceEqual(downstream.Roles, StringComparer.Ordinal));
        Check("entitlements", Entitlements.SequenceEqual(downstream.Entitlements));
        return fields;
    }

    private static JsonNode EntitlementNode(ScimEntitlement entitlement)
    {
        var node = new JsonObject { ["value"] = entitlement.Value };
        if (entitlement.Type is not null)
        {
            node["type"] = entitlement.Type;
        }

        if (entitlement.Display is not null)
        {
            node["display"] = entitlement.Display;
        }

        return node;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<JsonElement> Items(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? [.. value.EnumerateArray()] : [];

    // RFC 7643 §2.4: the primary value of a multi-valued attribute, else the first one.
    private static string? Primary(JsonElement element, string name)
    {
        var items = Items(element, name);
        var chosen = items.FirstOrDefault(i => i.TryGetProperty("primary", out var p) && p.ValueKind == JsonValueKind.True);
        return String(chosen.ValueKind == JsonValueKind.Object ? chosen : items.FirstOrDefault(), "value");
    }
}

using System.Text.Json.Nodes;

namespace IdentityHub.Server.Scim;

/// <summary>The schema and message URNs IdentityHub speaks (RFC 7643 §3, §4, §8.7; RFC 7644 §3).</summary>
public static class ScimSchemas
{
    public const string User = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string Group = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string HubUser = "urn:ietf:params:scim:schemas:extension:identityhub:2.0:User";
    public const string HubGroup = "urn:ietf:params:scim:schemas:extension:identityhub:2.0:Group";
    public const string ListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    public const string PatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string SearchRequest = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    public const string ServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    public const string ResourceType = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    public const string Schema = "urn:ietf:params:scim:schemas:core:2.0:Schema";

    /// <summary>The resource schemas, whose URN may prefix an attribute name in a filter or a PATCH path.</summary>
    public static readonly string[] Resource = [User, EnterpriseUser, HubUser, Group, HubGroup];
}

/// <summary>
/// RFC 7644 §4 discovery: what this service provider supports, its schemas and resource types. Served without a
/// token: it describes the server, not any source's data, and a client reads it to learn how to authenticate.
/// </summary>
public static class ScimDiscovery
{
    public static void MapScimDiscovery(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/ServiceProviderConfig", (HttpContext http) => new ScimJsonResult(ServiceProviderConfig(ScimRequests.BaseUrl(http))));
        endpoints.MapGet("/Schemas", (HttpContext http) =>
            new ScimJsonResult(ScimRequests.ListResponse(SchemaDefinitions.Count, 1, SchemaDefinitions.Select(s => WithMeta(s, "Schema", ScimRequests.BaseUrl(http) + "/Schemas/" + s["id"])))));
        endpoints.MapGet("/Schemas/{id}", (string id, HttpContext http) =>
            SchemaDefinitions.FirstOrDefault(s => string.Equals((string?)s["id"], id, StringComparison.OrdinalIgnoreCase)) is { } schema
                ? new ScimJsonResult(WithMeta(schema, "Schema", ScimRequests.BaseUrl(http) + "/Schemas/" + schema["id"]))
                : ScimErrors.Of(ScimException.NotFound("schema", id)));
        endpoints.MapGet("/ResourceTypes", (HttpContext http) =>
            new ScimJsonResult(ScimRequests.ListResponse(2, 1, ResourceTypes(ScimRequests.BaseUrl(http)))));
        endpoints.MapGet("/ResourceTypes/{name}", (string name, HttpContext http) =>
            ResourceTypes(ScimRequests.BaseUrl(http)).FirstOrDefault(t => string.Equals((string?)t["id"], name, StringComparison.OrdinalIgnoreCase)) is { } type
                ? new ScimJsonResult(type)
                : ScimErrors.Of(ScimException.NotFound("resource type", name)));
    }

    private static JsonObject ServiceProviderConfig(string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ServiceProviderConfig),
        ["patch"] = new JsonObject { ["supported"] = true },
        ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = ScimRequests.MaxPayload },
        ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = ScimRequests.MaxCount },
        ["changePassword"] = new JsonObject { ["supported"] = false },
        ["sort"] = new JsonObject { ["supported"] = true },
        ["etag"] = new JsonObject { ["supported"] = true },
        ["authenticationSchemes"] = new JsonArray(new JsonObject
        {
            ["type"] = "oauthbearertoken",
            ["name"] = "Source bearer token",
            ["description"] = "The bearer token (RFC 6750) issued to the source when an administrator registered it in IdentityHub.",
            ["primary"] = true,
        }),
        ["meta"] = new JsonObject { ["resourceType"] = "ServiceProviderConfig", ["location"] = baseUrl + "/ServiceProviderConfig" },
    };

    private static IEnumerable<JsonObject> ResourceTypes(string baseUrl) =>
    [
        ResourceType("User", "/Users", "A person of the company.", ScimSchemas.User, [ScimSchemas.EnterpriseUser, ScimSchemas.HubUser], baseUrl),
        ResourceType("Group", "/Groups", "A department; its members are the people in it.", ScimSchemas.Group, [ScimSchemas.HubGroup], baseUrl),
    ];

    private static JsonObject ResourceType(string name, string endpoint, string description, string schema, string[] extensions, string baseUrl) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.ResourceType),
        ["id"] = name,
        ["name"] = name,
        ["endpoint"] = endpoint,
        ["description"] = description,
        ["schema"] = schema,
        ["schemaExtensions"] = new JsonArray([.. extensions.Select(e => (JsonNode)new JsonObject { ["schema"] = e, ["required"] = false })]),
        ["meta"] = new JsonObject { ["resourceType"] = "ResourceType", ["location"] = $"{baseUrl}/ResourceTypes/{name}" },
    };

    private static JsonObject WithMeta(JsonObject schema, string resourceType, string location)
    {
        var copy = (JsonObject)schema.DeepClone();
        copy["meta"] = new JsonObject { ["resourceType"] = resourceType, ["location"] = location };
        return copy;
    }

    private static readonly List<JsonObject> SchemaDefinitions =
    [
        Schema(ScimSchemas.User, "User", "A person of the company.",
            Attribute("userName", required: true, uniqueness: "server"),
            Attribute("externalId", caseExact: true),
            Attribute("displayName"),
            Attribute("name", "complex", sub: [Attribute("formatted"), Attribute("givenName"), Attribute("familyName")]),
            Attribute("active", "boolean"),
            Attribute("emails", "complex", multi: true, sub: [Attribute("value"), Attribute("type"), Attribute("primary", "boolean")]),
            Attribute("phoneNumbers", "complex", multi: true, sub: [Attribute("value"), Attribute("type"), Attribute("primary", "boolean")])),
        Schema(ScimSchemas.EnterpriseUser, "EnterpriseUser", "The enterprise extension (RFC 7643 §4.3).",
            Attribute("employeeNumber", caseExact: true, uniqueness: "server"),
            Attribute("department", description: "Out: the department's name. In: its IdentityHub id, this source's id for it, its code or its unique name."),
            Attribute("manager", "complex", sub: [Attribute("value", caseExact: true), Attribute("displayName", mutability: "readOnly"), Attribute("$ref", "reference", mutability: "readOnly")])),
        Schema(ScimSchemas.HubUser, "IdentityHubUser", "IdentityHub's view of the person.",
            Attribute("departmentId", mutability: "readOnly", caseExact: true),
            Attribute("status", mutability: "readOnly", description: "Active, Suspended or Left.")),
        Schema(ScimSchemas.Group, "Group", "A department.",
            Attribute("displayName", required: true),
            Attribute("externalId", caseExact: true),
            Attribute("members", "complex", multi: true, description: "The people whose department this is; adding moves a person in, removing moves them to the parent department.",
                sub: [Attribute("value", caseExact: true), Attribute("display", mutability: "readOnly"), Attribute("type"), Attribute("$ref", "reference", mutability: "readOnly")])),
        Schema(ScimSchemas.HubGroup, "IdentityHubGroup", "Where the department sits in the tree.",
            Attribute("code", caseExact: true, uniqueness: "server"),
            Attribute("parent", "complex", sub: [Attribute("value", caseExact: true), Attribute("display", mutability: "readOnly"), Attribute("$ref", "reference", mutability: "readOnly")])),
    ];

    private static JsonObject Schema(string id, string name, string description, params JsonObject[] attributes) => new()
    {
        ["schemas"] = new JsonArray(ScimSchemas.Schema),
        ["id"] = id,
        ["name"] = name,
        ["description"] = description,
        ["attributes"] = new JsonArray([.. attributes]),
    };

    private static JsonObject Attribute(
        string name, string type = "string", bool multi = false, bool required = false, bool caseExact = false, string mutability = "readWrite",
        string uniqueness = "none", string? description = null, JsonObject[]? sub = null)
    {
        var attribute = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["multiValued"] = multi,
            ["description"] = description ?? name,
            ["required"] = required,
            ["caseExact"] = caseExact,
            ["mutability"] = mutability,
            ["returned"] = "default",
            ["uniqueness"] = uniqueness,
        };
        if (sub is not null)
        {
            attribute["subAttributes"] = new JsonArray([.. sub]);
        }

        return attribute;
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityHub.Provisioning.Connectors.Scim;

// The enums carry their camelCase JSON names, so the API's schema shows the strings the settings JSON holds.

/// <summary>How the connector authenticates to the SCIM service provider (RFC 7644 §2: the transport's own means).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScimAuthentication>))]
public enum ScimAuthentication
{
    /// <summary>A static bearer token (RFC 6750); the token is the connector's protected secret.</summary>
    [JsonStringEnumMemberName("bearer")]
    Bearer,

    /// <summary>OAuth 2.0 client credentials (RFC 6749 §4.4); the client secret is the connector's protected secret.</summary>
    [JsonStringEnumMemberName("clientCredentials")]
    ClientCredentials,
}

/// <summary>Which IdentityHub attribute becomes the SCIM <c>userName</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScimUserNameSource>))]
public enum ScimUserNameSource
{
    [JsonStringEnumMemberName("employeeNumber")]
    EmployeeNumber,

    [JsonStringEnumMemberName("userName")]
    UserName,
}

/// <summary>What happens downstream to a user who must no longer be there (lost access, or an extra found by reconciliation).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ScimDeprovisioning>))]
public enum ScimDeprovisioning
{
    [JsonStringEnumMemberName("delete")]
    Delete,

    [JsonStringEnumMemberName("deactivate")]
    Deactivate,
}

/// <summary>
/// A SCIM connector's settings (the <c>Connector.Settings</c> JSON, camelCase, enums as camelCase strings).
/// Never a secret: the bearer token or client secret is <c>Connector.ProtectedSecret</c>.
/// </summary>
public sealed record ScimSettings
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
    };

    /// <summary>The SCIM base URL, e.g. <c>https://expense.example/scim/v2</c> (RFC 7644 §3: resources hang below it).</summary>
    public Uri? BaseUrl { get; init; }

    public ScimAuthentication Authentication { get; init; } = ScimAuthentication.Bearer;

    public Uri? TokenEndpoint { get; init; }

    public string? ClientId { get; init; }

    public string? Scope { get; init; }

    public ScimUserNameSource UserName { get; init; } = ScimUserNameSource.EmployeeNumber;

    /// <summary>Each role is also a SCIM Group whose members are kept by PATCH.</summary>
    public bool GroupsMode { get; init; }

    /// <summary>False (default): only users holding a role in the application are provisioned; true: every user.</summary>
    public bool AllUsers { get; init; }

    public ScimDeprovisioning Deprovisioning { get; init; } = ScimDeprovisioning.Delete;

    /// <summary>
    /// Each User carries the state's version in IdentityHub's extension (<see cref="ScimUser.ProvisioningSchema"/>,
    /// attribute <c>version</c>), so the target can drop a stale state; only for targets that accept the extension
    /// (RFC 7643 §3: a service provider may refuse schemas it does not know).
    /// </summary>
    public bool VersionExtension { get; init; }

    /// <summary>Whether fixing drift also removes extras (downstream users IdentityHub does not know), per <see cref="Deprovisioning"/>.</summary>
    public bool RemoveExtras { get; init; }

    public int TimeoutSeconds { get; init; } = 10;

    [JsonIgnore]
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>Reads and checks the settings JSON; the errors name the field (camelCase) for an RFC 9457 answer.</summary>
    public static ScimSettings Parse(string json, out IReadOnlyDictionary<string, string[]> errors)
    {
        var found = new Dictionary<string, string[]>(StringComparer.Ordinal);
        errors = found;
        ScimSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<ScimSettings>(string.IsNullOrWhiteSpace(json) ? "{}" : json, Json);
        }
        catch (JsonException ex)
        {
            found[ex.Path is { Length: > 2 } path ? path[2..] : "settings"] = [$"Not valid here: {ex.Message}"];
            return new ScimSettings();
        }

        settings ??= new ScimSettings();
        if (settings.BaseUrl is not { IsAbsoluteUri: true } baseUrl || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp))
        {
            found["baseUrl"] = ["An absolute http(s) URL of the SCIM service provider is required, e.g. https://app.example/scim/v2."];
        }

        if (settings.Authentication == ScimAuthentication.ClientCredentials)
        {
            if (settings.TokenEndpoint is not { IsAbsoluteUri: true })
            {
                found["tokenEndpoint"] = ["OAuth 2.0 client credentials need the absolute URL of the token endpoint."];
            }

            if (string.IsNullOrWhiteSpace(settings.ClientId))
            {
                found["clientId"] = ["OAuth 2.0 client credentials need a client id."];
            }
        }

        if (settings.TimeoutSeconds is < 1 or > 300)
        {
            found["timeoutSeconds"] = ["Between 1 and 300 seconds."];
        }

        return settings;
    }
}

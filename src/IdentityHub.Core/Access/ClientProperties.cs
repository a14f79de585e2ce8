using System.Collections.Immutable;
using System.Text.Json;

namespace IdentityHub.Core.Access;

/// <summary>
/// IdentityHub's own settings of an OIDC client, kept in the OpenIddict application's Properties (JSON),
/// next to what OpenIddict models itself (consent type, requirements, settings, JSON Web Key Set).
/// </summary>
public static class ClientProperties
{
    /// <summary>OpenID Connect Back-Channel Logout 1.0 <c>backchannel_logout_uri</c> (string).</summary>
    public const string BackchannelLogoutUri = "backchannel_logout_uri";

    /// <summary>
    /// OpenID Connect Registration 1.0 §2 <c>initiate_login_uri</c> (string, https): where a third party (the portal) starts the
    /// client's own login, which then sends an authorization request.
    /// </summary>
    public const string InitiateLoginUri = "initiate_login_uri";

    /// <summary>Admin roles a client acting for itself (client credentials) holds: JSON array of strings.</summary>
    public const string AdminRoles = "admin_roles";

    /// <summary>True when an administrator switched the client off: it gets no code and no token.</summary>
    public const string Disabled = "identityhub_disabled";

    /// <summary>The id of the IdentityHub application this client belongs to (string).</summary>
    public const string ApplicationId = "identityhub_application_id";

    /// <summary>The client's <see cref="AdminRoles"/>, or none.</summary>
    public static ImmutableArray<string> AdminRolesOf(IReadOnlyDictionary<string, JsonElement> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return properties.TryGetValue(AdminRoles, out var roles) && roles.ValueKind == JsonValueKind.Array
            ? [.. roles.EnumerateArray().Select(r => r.GetString()).OfType<string>()]
            : [];
    }

    /// <summary>Whether an administrator switched the client off (<see cref="Disabled"/>).</summary>
    public static bool IsDisabled(IReadOnlyDictionary<string, JsonElement> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        return properties.TryGetValue(Disabled, out var disabled) && disabled.ValueKind == JsonValueKind.True;
    }
}

/// <summary>The scopes IdentityHub knows beyond the OpenID Connect standard ones.</summary>
public static class IdentityHubScopes
{
    /// <summary>employee_number and department claims.</summary>
    public const string Employee = "employee";

    /// <summary>roles and permissions claims in the ID token and userinfo (access tokens always carry them).</summary>
    public const string Roles = "roles";

    /// <summary>Access to the admin REST API; tokens with it get the <see cref="AdminApiAudience"/> audience.</summary>
    public const string AdminApi = "identityhub.admin";

    public const string AdminApiAudience = "identityhub-admin-api";
}

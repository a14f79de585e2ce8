using System.Security.Claims;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Identities;

/// <summary>IdentityHub's claim names beyond the OpenID Connect standard ones.</summary>
public static class IdentityHubClaims
{
    public const string EmployeeNumber = "employee_number";
    public const string Department = "department";
    public const string Roles = "roles";
    public const string Permissions = "permissions";

    /// <summary>OpenID Connect Front/Back-Channel Logout: the browser session id.</summary>
    public const string SessionId = "sid";

    /// <summary>Unix milliseconds of the sign-in that started the session (the cookie's IssuedUtc moves on every renewal).</summary>
    public const string AuthenticationTime = "identityhub_auth_time";

    /// <summary>
    /// RFC 8176 §2: how the user authenticated. A password gives ["pwd"] (Identity adds it); a password and an authenticator
    /// code or a recovery code (a one-time password too) ["pwd","otp","mfa"]. The ID token's amr and acr and SAML's
    /// AuthnContextClassRef come from it.
    /// </summary>
    public const string AuthenticationMethods = "amr";

    /// <summary>
    /// When the session's user signed in: the <see cref="AuthenticationTime"/> claim, not the cookie's IssuedUtc, which
    /// moves on every renewal and is cleared when a change of the user makes the cookie due for a check.
    /// </summary>
    public static DateTimeOffset? AuthenticatedAt(Microsoft.AspNetCore.Authentication.AuthenticateResult session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return long.TryParse(session.Principal?.FindFirst(AuthenticationTime)?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : session.Properties?.IssuedUtc;
    }
}

/// <summary>
/// What a user's tokens say about them, and where each claim goes. Built from the database every time
/// (authorize, code exchange, refresh, userinfo) so a change of name, department or roles shows at once.
/// </summary>
public sealed class UserClaims(IdentityHubDbContext db, EffectiveEntitlements entitlements, IOpenIddictApplicationManager applications)
{
    /// <summary>A fresh identity for the tokens of <paramref name="clientId"/>, granted <paramref name="scopes"/>.</summary>
    public static ClaimsIdentity NewIdentity(IEnumerable<string> scopes)
    {
        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetScopes(scopes);
        return identity;
    }

    /// <summary>Sets (replacing any earlier value) the user's claims allowed by the identity's scopes, the audience and the destinations.</summary>
    public async Task ApplyAsync(ClaimsIdentity identity, UserAccount user, string clientId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(user);
        // OpenID Connect Core §5.7: sub is stable and never reassigned; the database id, not the user name.
        identity.SetClaim(Claims.Subject, user.Id);

        var scopes = identity.GetScopes();
        foreach (var (type, value) in await ProfileOfAsync(user, scopes, cancellationToken))
        {
            identity.SetClaim(type, value);
        }

        if (scopes.Contains(Scopes.Email) && !string.IsNullOrEmpty(user.Email))
        {
            identity.SetClaim(Claims.EmailVerified, JsonSerializer.SerializeToElement(user.EmailConfirmed));
        }

        var rights = await entitlements.ForClientAsync(user.Id, clientId, cancellationToken);
        SetArrayClaim(identity, IdentityHubClaims.Roles, rights.Roles);
        SetArrayClaim(identity, IdentityHubClaims.Permissions, rights.Permissions);

        // The admin API authorizes by admin role (AdminApiPolicies): a token granted its scope carries the
        // admin roles both the user and the client hold, never more than either could use on its own.
        identity.RemoveClaims(Claims.Role);
        if (scopes.Contains(IdentityHubScopes.AdminApi))
        {
            var clientRoles = await ClientAdminRolesAsync(clientId, cancellationToken);
            identity.SetClaims(Claims.Role, [.. (await AdminRolesOfAsync(user.Id, cancellationToken)).Where(clientRoles.Contains)]);
        }

        // Access tokens are for the calling application, plus the admin API when that scope was granted.
        identity.SetResources(scopes.Contains(IdentityHubScopes.AdminApi) ? [clientId, IdentityHubScopes.AdminApiAudience] : [clientId]);
        identity.SetDestinations(claim => DestinationsOf(claim, scopes));
    }

    /// <summary>The userinfo response (OpenID Connect Core §5.3.2): the same claims as the ID token, by scope.</summary>
    public async Task<Dictionary<string, object>> UserInfoAsync(UserAccount user, string clientId, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(scopes);
        var claims = new Dictionary<string, object>(StringComparer.Ordinal) { [Claims.Subject] = user.Id };
        foreach (var (type, value) in await ProfileOfAsync(user, scopes, cancellationToken))
        {
            claims[type] = value;
        }

        if (scopes.Contains(Scopes.Email) && !string.IsNullOrEmpty(user.Email))
        {
            claims[Claims.EmailVerified] = user.EmailConfirmed;
        }

        if (scopes.Contains(IdentityHubScopes.Roles) && clientId.Length > 0)
        {
            var rights = await entitlements.ForClientAsync(user.Id, clientId, cancellationToken);
            claims[IdentityHubClaims.Roles] = rights.Roles;
            claims[IdentityHubClaims.Permissions] = rights.Permissions;
        }

        return claims;
    }

    /// <summary>
    /// Every claim an ID token or the userinfo response may carry, for discovery's <c>claims_supported</c> (OpenID Connect
    /// Discovery §3): the user claims <see cref="DestinationsOf"/> sends to the ID token, and the claims OpenIddict adds to
    /// every ID token. A test compares it with the claims of real tokens, so the two cannot drift apart.
    /// </summary>
    public static IReadOnlyList<string> SupportedClaims { get; } =
    [
        Claims.Subject, Claims.Name, Claims.PreferredUsername, Claims.Email, Claims.EmailVerified,
        IdentityHubClaims.EmployeeNumber, IdentityHubClaims.Department, IdentityHubClaims.Roles, IdentityHubClaims.Permissions,
        IdentityHubClaims.SessionId, Claims.AuthenticationTime, Claims.AuthenticationMethodReference, Claims.AuthenticationContextReference,
        Claims.Issuer, Claims.Audience, Claims.ExpiresAt, Claims.IssuedAt, Claims.Nonce, Claims.AuthorizedParty,
        Claims.AccessTokenHash, Claims.CodeHash,
    ];

    /// <summary>Where a claim may go: access tokens always carry sub, roles and permissions; the ID token follows the scopes.</summary>
    public static IEnumerable<string> DestinationsOf(Claim claim, IReadOnlyCollection<string> scopes)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(scopes);
        return claim.Type switch
        {
            Claims.Subject => [Destinations.AccessToken, Destinations.IdentityToken],
            Claims.Name or Claims.PreferredUsername when scopes.Contains(Scopes.Profile) => [Destinations.IdentityToken],
            Claims.Email or Claims.EmailVerified when scopes.Contains(Scopes.Email) => [Destinations.IdentityToken],
            IdentityHubClaims.EmployeeNumber or IdentityHubClaims.Department when scopes.Contains(IdentityHubScopes.Employee)
                => [Destinations.IdentityToken],
            IdentityHubClaims.Roles or IdentityHubClaims.Permissions => scopes.Contains(IdentityHubScopes.Roles)
                ? [Destinations.AccessToken, Destinations.IdentityToken]
                : [Destinations.AccessToken],
            Claims.Role when scopes.Contains(IdentityHubScopes.AdminApi) => [Destinations.AccessToken],
            // OpenID Connect Core §2 and Back-Channel Logout §2.4: auth_time and sid belong in the ID token.
            IdentityHubClaims.SessionId or Claims.AuthenticationTime => [Destinations.IdentityToken],
            // RFC 8176 and OpenID Connect Core §2: how the user authenticated, for the relying party.
            Claims.AuthenticationMethodReference or Claims.AuthenticationContextReference => [Destinations.IdentityToken],
            _ => [],
        };
    }

    private async Task<HashSet<string>> ClientAdminRolesAsync(string clientId, CancellationToken cancellationToken) =>
        await applications.FindByClientIdAsync(clientId, cancellationToken) is { } application
            ? [.. ClientProperties.AdminRolesOf(await applications.GetPropertiesAsync(application, cancellationToken))]
            : [];

    private Task<List<string>> AdminRolesOfAsync(string userId, CancellationToken cancellationToken) => (
            from link in db.UserRoles
            join role in db.Roles on link.RoleId equals role.Id
            where link.UserId == userId && AdminRoles.All.Contains(role.Name!)
            orderby role.Name
            select role.Name!)
        .ToListAsync(cancellationToken);

    /// <summary>One claim holding a JSON array, so a single role is still written as an array, and no role as [].</summary>
    internal static void SetArrayClaim(ClaimsIdentity identity, string type, IReadOnlyList<string> values)
    {
        identity.RemoveClaims(type);
        identity.AddClaim(new Claim(type, JsonSerializer.Serialize(values), JsonClaimValueTypes.JsonArray));
    }

    private async Task<List<(string Type, string Value)>> ProfileOfAsync(UserAccount user, IReadOnlyCollection<string> scopes, CancellationToken cancellationToken)
    {
        var claims = new List<(string, string)>();
        if (scopes.Contains(Scopes.Profile))
        {
            claims.Add((Claims.Name, string.IsNullOrEmpty(user.DisplayName) ? user.UserName ?? user.Id : user.DisplayName));
            if (!string.IsNullOrEmpty(user.UserName))
            {
                claims.Add((Claims.PreferredUsername, user.UserName));
            }
        }

        if (scopes.Contains(Scopes.Email) && !string.IsNullOrEmpty(user.Email))
        {
            claims.Add((Claims.Email, user.Email));
        }

        if (scopes.Contains(IdentityHubScopes.Employee))
        {
            if (!string.IsNullOrEmpty(user.EmployeeNumber))
            {
                claims.Add((IdentityHubClaims.EmployeeNumber, user.EmployeeNumber));
            }

            if (user.DepartmentId is { } departmentId
                && await db.Departments.AsNoTracking().Where(d => d.Id == departmentId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken) is { } department)
            {
                claims.Add((IdentityHubClaims.Department, department));
            }
        }

        return claims;
    }
}

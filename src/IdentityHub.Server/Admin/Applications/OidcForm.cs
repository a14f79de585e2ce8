using System.Globalization;
using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// The console's OIDC client form: every field the admin API's registration takes, as plain form fields (URIs one per
/// line, grant types, scopes and admin roles as check boxes, the JSON Web Key Set as JSON text). Check boxes post
/// nothing when unticked, so every list and flag starts empty or false and <see cref="Of"/> fills in a new client's defaults.
/// </summary>
public sealed class OidcForm
{
    /// <summary>The application's revision the page showed (If-Match); none when registering.</summary>
    public long? Revision { get; set; }

    public string? ClientType { get; set; }

    public string? TokenEndpointAuthMethod { get; set; }

    /// <summary>One URI per line.</summary>
    public string? RedirectUris { get; set; }

    /// <summary>One URI per line.</summary>
    public string? PostLogoutRedirectUris { get; set; }

    public List<string> GrantTypes { get; set; } = [];

    public List<string> Scopes { get; set; } = [];

    public bool FirstParty { get; set; }

    public bool RequirePkce { get; set; }

    public bool RequirePushedAuthorization { get; set; }

    public string? BackchannelLogoutUri { get; set; }

    public string? InitiateLoginUri { get; set; }

    // Lifetimes as typed: a number input can still post text, which is refused on its field rather than lost.
    public string? AccessTokenLifetimeSeconds { get; set; }

    public string? RefreshTokenLifetimeSeconds { get; set; }

    public string? IdentityTokenLifetimeSeconds { get; set; }

    public string? AuthorizationCodeLifetimeSeconds { get; set; }

    /// <summary>The public keys of a private_key_jwt client, as JSON ({"keys": [...]}).</summary>
    public string? Jwks { get; set; }

    public List<string> AdminRoles { get; set; } = [];

    /// <summary>Kept as it is: the form changes the registration, the enable/disable buttons switch the client.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The form for the stored client, or a new web application's usual choices when there is none.</summary>
    public static OidcForm Of(OidcClientView? view)
    {
        if (view is not { Registration: var client })
        {
            return new OidcForm
            {
                ClientType = "confidential",
                TokenEndpointAuthMethod = ClientRegistration.SecretBasic,
                GrantTypes = ["authorization_code", "refresh_token"],
                Scopes = ["openid", "profile", "email", "roles"],
                FirstParty = true,
                RequirePkce = true,
            };
        }

        return new OidcForm
        {
            Revision = view.Revision,
            ClientType = client.ClientType,
            TokenEndpointAuthMethod = client.TokenEndpointAuthMethod,
            RedirectUris = string.Join('\n', client.RedirectUris),
            PostLogoutRedirectUris = string.Join('\n', client.PostLogoutRedirectUris),
            GrantTypes = [.. client.GrantTypes],
            Scopes = [.. client.Scopes],
            FirstParty = client.FirstParty,
            RequirePkce = client.RequirePkce,
            RequirePushedAuthorization = client.RequirePushedAuthorization,
            BackchannelLogoutUri = client.BackchannelLogoutUri,
            InitiateLoginUri = client.InitiateLoginUri,
            AccessTokenLifetimeSeconds = Text(client.AccessTokenLifetimeSeconds),
            RefreshTokenLifetimeSeconds = Text(client.RefreshTokenLifetimeSeconds),
            IdentityTokenLifetimeSeconds = Text(client.IdentityTokenLifetimeSeconds),
            AuthorizationCodeLifetimeSeconds = Text(client.AuthorizationCodeLifetimeSeconds),
            Jwks = client.Jwks is { } jwks ? JsonSerializer.Serialize(jwks, Indented) : null,
            AdminRoles = [.. client.AdminRoles],
            Enabled = client.Enabled,
        };
    }

    /// <summary>The registration the admin API would receive; a lifetime that is no number, or jwks that is no JSON, is refused on its field.</summary>
    public ClientRegistrationRequest ToRequest()
    {
        var errors = new FieldErrors();
        var access = Seconds(AccessTokenLifetimeSeconds, "accessTokenLifetimeSeconds", errors);
        var refresh = Seconds(RefreshTokenLifetimeSeconds, "refreshTokenLifetimeSeconds", errors);
        var identity = Seconds(IdentityTokenLifetimeSeconds, "identityTokenLifetimeSeconds", errors);
        var code = Seconds(AuthorizationCodeLifetimeSeconds, "authorizationCodeLifetimeSeconds", errors);
        errors.ThrowIfAny();
        return new ClientRegistrationRequest(
            ClientType,
            Lines(RedirectUris),
            Lines(PostLogoutRedirectUris),
            [.. GrantTypes.Distinct(StringComparer.Ordinal)],
            [.. Scopes.Distinct(StringComparer.Ordinal)],
            string.IsNullOrWhiteSpace(TokenEndpointAuthMethod) ? null : TokenEndpointAuthMethod,
            ClientRegistration.ReadJwks(Jwks),
            FirstParty,
            RequirePkce,
            RequirePushedAuthorization,
            string.IsNullOrWhiteSpace(BackchannelLogoutUri) ? null : BackchannelLogoutUri.Trim(),
            access,
            refresh,
            identity,
            code,
            [.. AdminRoles.Distinct(StringComparer.Ordinal)],
            Enabled,
            string.IsNullOrWhiteSpace(InitiateLoginUri) ? null : InitiateLoginUri.Trim());
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The non-empty lines, trimmed: what a person means by "one per line".</summary>
    private static string[] Lines(string? text) =>
        (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? Text(int? seconds) => seconds?.ToString(CultureInfo.InvariantCulture);

    private static int? Seconds(string? text, string field, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds;
        }

        errors.Add(field, $"{field} must be a whole number of seconds, or empty for the default.", "client.lifetimeNotNumber", field);
        return null;
    }
}

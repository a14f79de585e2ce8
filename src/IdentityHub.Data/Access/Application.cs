namespace IdentityHub.Data.Access;

/// <summary>
/// One connected system (the OA, the expense system...). It has zero or one OIDC client: an OpenIddict
/// application linked by <see cref="OidcClientId"/>.
/// </summary>
public sealed class Application
{
    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 2000;
    public const int LaunchUrlMaxLength = 2000;

    /// <summary>Room for a small data: URI image (a 64×64 PNG is a few kB in base64).</summary>
    public const int IconUrlMaxLength = 32_768;
    public const int ThemeMaxLength = 64;

    public Guid Id { get; set; }

    /// <summary>Unique across IdentityHub; what administrators see.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>Where the portal sends an employee to start the application (https, or http on loopback).</summary>
    public string? LaunchUrl { get; set; }

    /// <summary>The icon the portal shows: an https URL or a data: URI of an image.</summary>
    public string? IconUrl { get; set; }

    /// <summary>The theme folder (<c>themes/&lt;name&gt;</c>) its sign-in pages use; null for the global one.</summary>
    public string? Theme { get; set; }

    /// <summary>The client_id of the application's OpenIddict application, when it has an OIDC client.</summary>
    public string? OidcClientId { get; set; }

    /// <summary>Losing a role in this application revokes the user's refresh tokens and authorizations of its client.</summary>
    public bool RevokeTokensOnAccessLoss { get; set; } = true;

    /// <summary>Signing in to this application (OIDC or SAML) takes a second factor, whatever the user's own policy says.</summary>
    public bool RequireMfa { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

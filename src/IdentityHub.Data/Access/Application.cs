namespace IdentityHub.Data.Access;

/// <summary>
/// One connected system (the OA, the expense system...). It has zero or one OIDC client: an OpenIddict
/// application linked by <see cref="OidcClientId"/>.
/// </summary>
public sealed class Application
{
    public const int NameMaxLength = 200;
    public const int DescriptionMaxLength = 2000;

    public Guid Id { get; set; }

    /// <summary>Unique across IdentityHub; what administrators see.</summary>
    public required string Name { get; set; }

    public string? Description { get; set; }

    /// <summary>The client_id of the application's OpenIddict application, when it has an OIDC client.</summary>
    public string? OidcClientId { get; set; }

    /// <summary>Losing a role in this application revokes the user's refresh tokens and authorizations of its client.</summary>
    public bool RevokeTokensOnAccessLoss { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

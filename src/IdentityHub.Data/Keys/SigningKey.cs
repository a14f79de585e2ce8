namespace IdentityHub.Data.Keys;

/// <summary>
/// A private key the server signs or encrypts tokens with. The key material is stored protected by
/// ASP.NET Core Data Protection, whose own key ring lives in the same database.
/// </summary>
public sealed class SigningKey
{
    /// <summary>The JWK "kid".</summary>
    public required string Id { get; set; }

    /// <summary>The JWK "use": <see cref="KeyUses.Signing"/> or <see cref="KeyUses.Encryption"/>.</summary>
    public required string Use { get; set; }

    /// <summary>
    /// 1, 2, 3... per <see cref="Use"/>, unique: when two nodes race to create the next key, the
    /// database lets only one of them have that generation.
    /// </summary>
    public int Generation { get; set; }

    /// <summary>The JWA algorithm, for example RS256.</summary>
    public required string Algorithm { get; set; }

    /// <summary>The private key as PKCS#8 PEM, protected by Data Protection.</summary>
    public required string ProtectedKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>From this instant the key may sign; before it, it is only published.</summary>
    public DateTimeOffset ActivatesAt { get; set; }

    /// <summary>When set, the key no longer signs; it stays published until its tokens have expired.</summary>
    public DateTimeOffset? RetiredAt { get; set; }

    /// <summary>When set, the tokens the key protected have expired: it is neither published nor used again.</summary>
    public DateTimeOffset? RemovedAt { get; set; }
}

public static class KeyUses
{
    public const string Signing = "sig";
    public const string Encryption = "enc";
}

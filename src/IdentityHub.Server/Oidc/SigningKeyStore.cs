using System.Security.Cryptography;
using IdentityHub.Data;
using IdentityHub.Data.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Oidc;

/// <summary>
/// The server's token signing and encryption keys, kept in the database with their private halves
/// protected by Data Protection, so every node of a cluster signs with the same keys.
/// </summary>
public sealed class SigningKeyStore(IdentityHubDbContext db, IDataProtectionProvider dataProtection, TimeProvider clock)
{
    private const int RsaKeySize = 2048;
    private readonly IDataProtector _protector = dataProtection.CreateProtector("IdentityHub.SigningKeys.v1");

    /// <summary>Creates a signing and an encryption key when none that is still in service exists.</summary>
    public async Task EnsureKeysAsync(CancellationToken cancellationToken)
    {
        foreach (var use in new[] { KeyUses.Signing, KeyUses.Encryption })
        {
            if (!await db.SigningKeys.AnyAsync(k => k.Use == use && k.RetiredAt == null, cancellationToken))
            {
                db.SigningKeys.Add(CreateRsaKey(use));
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The keys in service, newest first, ready for OpenIddict.</summary>
    public async Task<IReadOnlyList<(SigningKey Row, SecurityKey Key)>> LoadActiveAsync(string use, CancellationToken cancellationToken)
    {
        var rows = await db.SigningKeys.AsNoTracking()
            .Where(k => k.Use == use && k.RetiredAt == null)
            .OrderByDescending(k => k.ActivatesAt)
            .ToListAsync(cancellationToken);
        return rows.Select(row => (row, (SecurityKey)Unprotect(row))).ToList();
    }

    private SigningKey CreateRsaKey(string use)
    {
        using var rsa = RSA.Create(RsaKeySize);
        var now = clock.GetUtcNow();
        return new SigningKey
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
            Use = use,
            Algorithm = use == KeyUses.Signing ? SecurityAlgorithms.RsaSha256 : SecurityAlgorithms.RsaOAEP,
            ProtectedKey = _protector.Protect(rsa.ExportPkcs8PrivateKeyPem()),
            CreatedAt = now,
            ActivatesAt = now,
        };
    }

    private RsaSecurityKey Unprotect(SigningKey row)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(_protector.Unprotect(row.ProtectedKey));
        return new RsaSecurityKey(rsa) { KeyId = row.Id };
    }
}

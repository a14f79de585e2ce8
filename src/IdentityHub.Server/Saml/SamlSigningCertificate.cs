using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Data;
using IdentityHub.Data.Keys;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>
/// The IdP's SAML signing certificate: an RSA key with a self-signed X.509 certificate, kept in the
/// SigningKeys table (use "saml") with its private half protected by Data Protection like the OIDC keys,
/// so every node signs with, and publishes in metadata, the same certificate. SAML SPs pin the
/// certificate from metadata, so it is not rotated with the OIDC keys.
/// </summary>
public sealed class SamlSigningCertificate(IServiceScopeFactory scopes, IDataProtectionProvider dataProtection, TimeProvider clock, ILogger<SamlSigningCertificate> logger) : IDisposable
{
    public const string KeyUse = "saml";
    private const string Purpose = "IdentityHub.SigningKeys.v1.saml";
    private readonly SemaphoreSlim _loading = new(1, 1);
    private X509Certificate2? _current;

    public async Task<X509Certificate2> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } loaded)
        {
            return loaded;
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            return _current ??= await LoadOrCreateAsync(cancellationToken);
        }
        finally
        {
            _loading.Release();
        }
    }

    private async Task<X509Certificate2> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        var protector = dataProtection.CreateProtector(Purpose);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        for (var attempt = 1; ; attempt++)
        {
            var row = await db.SigningKeys.AsNoTracking().Where(k => k.Use == KeyUse && k.RemovedAt == null)
                .OrderByDescending(k => k.Generation).FirstOrDefaultAsync(cancellationToken);
            if (row is not null)
            {
                var pem = protector.Unprotect(row.ProtectedKey);
                using var fromPem = X509Certificate2.CreateFromPem(pem, pem);
                // Re-import so the private key is usable on every platform (ephemeral PEM keys are not everywhere).
                return X509CertificateLoader.LoadPkcs12(fromPem.Export(X509ContentType.Pkcs12), null);
            }

            db.SigningKeys.Add(NewRow(protector));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                logger.LogInformation("Created the SAML signing certificate");
            }
            catch (DbUpdateException) when (attempt == 1)
            {
                // Another node created it at the same time (unique use + generation): use theirs.
                db.ChangeTracker.Clear();
            }
        }
    }

    public void Dispose()
    {
        _loading.Dispose();
        _current?.Dispose();
    }

    private SigningKey NewRow(IDataProtector protector)
    {
        using var rsa = RSA.Create(3072);
        var now = clock.GetUtcNow();
        var request = new CertificateRequest("CN=IdentityHub SAML signing", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        var pem = certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem();
        return new SigningKey
        {
            Id = Convert.ToHexStringLower(SHA256.HashData(certificate.RawData))[..32],
            Use = KeyUse,
            Generation = 1,
            Algorithm = "RS256",
            ProtectedKey = protector.Protect(pem),
            CreatedAt = now,
            ActivatesAt = now,
        };
    }
}

using Microsoft.AspNetCore.DataProtection;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>Connector secrets at rest: protected with Data Protection (keys in the database, shared by every node).</summary>
public sealed class ConnectorSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("IdentityHub.Provisioning.ConnectorSecret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    public string? Unprotect(string? protectedSecret) => protectedSecret is null ? null : _protector.Unprotect(protectedSecret);
}

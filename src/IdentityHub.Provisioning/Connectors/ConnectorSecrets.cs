using IdentityHub.Data.Provisioning;
using Microsoft.AspNetCore.DataProtection;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>Protects and reads a connector's secret (bearer token, client secret, signing secret) with Data Protection.</summary>
public sealed class ConnectorSecrets(IDataProtectionProvider dataProtection)
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("IdentityHub.Connectors.Secret.v1");

    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The unprotected secret, or null when the connector has none.</summary>
    public string? Unprotect(Connector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return connector.ProtectedSecret is { Length: > 0 } protectedSecret ? _protector.Unprotect(protectedSecret) : null;
    }
}

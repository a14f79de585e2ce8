using System.Collections.Immutable;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.Revocation;

/// <summary>What IdentityHub adds to OpenIddict at the revocation endpoint (RFC 7009), listed once.</summary>
public static class RevocationHandlers
{
    public static ImmutableArray<OpenIddictServerHandlerDescriptor> All { get; } =
    [
        // A revocation is a security event: audited with the client that asked.
        RevocationAudit.Descriptor,
    ];
}

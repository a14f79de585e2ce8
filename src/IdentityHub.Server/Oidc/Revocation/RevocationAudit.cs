using IdentityHub.Core.Audit;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Revocation;

/// <summary>A token revoked by its client (RFC 7009) is a security event: the audit trail records which client did it, never the token.</summary>
public sealed class RevocationAudit(AuditTrail audit, CurrentActor actor) : IOpenIddictServerHandler<ApplyRevocationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyRevocationResponseContext>()
            .UseScopedHandler<RevocationAudit>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyRevocationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!string.IsNullOrEmpty(context.Error) || context.Request?.ClientId is not { } clientId)
        {
            return;
        }

        actor.Value = actor.Value with { Id = clientId, Name = clientId };
        await audit.RecordEventAsync("token.revoked", "client", clientId, new { tokenTypeHint = context.Request.TokenTypeHint }, context.CancellationToken);
    }
}

using IdentityHub.Server.Hosting.Telemetry;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Token;

/// <summary>Counts every token response, successful or not, once it is decided (before OpenIddict writes it).</summary>
public sealed class TokenRequestMetrics(ServerMetrics metrics) : IOpenIddictServerHandler<ApplyTokenResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyTokenResponseContext>()
            .UseSingletonHandler<TokenRequestMetrics>()
            .SetOrder(int.MinValue + 100_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyTokenResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        metrics.TokenRequest(context.Request?.GrantType, context.Response.Error);
        return ValueTask.CompletedTask;
    }
}

using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// RFC 9101 §6.2 (used by RFC 9126 §4): an unusable request_uri (expired, already used, unknown) is
/// invalid_request_uri. OpenIddict reports invalid_token, which is not an authorization endpoint error.
/// </summary>
public sealed class RequestUriErrorCode : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<RequestUriErrorCode>()
            .SetOrder(int.MinValue + 50_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.Error == Errors.InvalidToken && !string.IsNullOrEmpty(context.Request?.RequestUri))
        {
            context.Response.Error = Errors.InvalidRequestUri;
            context.Response.ErrorDescription = "The request_uri has expired, was already used, or is unknown.";
        }

        return ValueTask.CompletedTask;
    }
}

using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// OpenIddict shows every authorization request its validation stage refused on the provider's error page. The
/// spec sends such errors back to the client when the client and its redirect URI are known; this handler does
/// that, and only for a redirect URI registered for that client exactly (and, with PAR, the pushed one).
/// </summary>
public sealed class AuthorizationErrorRedirect(IOpenIddictApplicationManager applications) :
    IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    private static readonly string RedirectedKey = typeof(AuthorizationErrorRedirect).FullName!;

    /// <summary>Right after OpenIddict's AttachRedirectUri (which skips rejected requests), before InferResponseMode.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseScopedHandler<AuthorizationErrorRedirect>()
            .SetOrder(OpenIddictServerHandlers.Authentication.AttachRedirectUri.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    /// <summary>After InferResponseMode: an error sent back under an unusable response_mode goes in the query.</summary>
    public static OpenIddictServerHandlerDescriptor ResponseModeDescriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<ResponseModeFallback>()
            .SetOrder(OpenIddictServerHandlers.Authentication.InferResponseMode.Descriptor.Order + 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await FindClientRedirectUriAsync(context) is { } redirectUri)
        {
            // RFC 6749 §4.1.2.1: unless the client or redirect_uri is the problem, the error goes back to the client.
            context.RedirectUri = redirectUri;
            context.Transaction.SetProperty(RedirectedKey, redirectUri);
        }
    }

    /// <summary>The request's redirect_uri when the refused request may be answered there, else null.</summary>
    private async ValueTask<string?> FindClientRedirectUriAsync(ApplyAuthorizationResponseContext context)
    {
        var request = context.Request;
        if (request is null || string.IsNullOrEmpty(context.Response.Error) || !string.IsNullOrEmpty(context.RedirectUri)
            || !string.IsNullOrEmpty(context.Response.RequestUri) || context.Response.Error == Errors.InvalidClient)
        {
            return null;
        }

        // Only a request that was extracted and then refused by validation; extraction failures (oversized or
        // malformed parameters) have no validation notification and stay on the error page.
        var validation = context.Transaction.GetProperty<ValidateAuthorizationRequestContext>(typeof(ValidateAuthorizationRequestContext).FullName!);
        if (validation is not { IsRejected: true } || string.IsNullOrEmpty(request.ClientId) || string.IsNullOrEmpty(request.RedirectUri))
        {
            return null;
        }

        // RFC 9126 §4: with a request_uri, only the pushed (authenticated, validated) redirect_uri is trusted;
        // an unresolved or foreign reference leaves the redirect_uri unknown.
        if (!string.IsNullOrEmpty(request.RequestUri) && !CameFromPushedRequest(validation, request))
        {
            return null;
        }

        var cancellationToken = context.CancellationToken;
        var application = await applications.FindByClientIdAsync(request.ClientId, cancellationToken);
        // RFC 9700 §4.1.3: exact match with a registered redirect URI, or the error is shown here.
        return application is not null && await applications.ValidateRedirectUriAsync(application, request.RedirectUri, cancellationToken)
            ? request.RedirectUri
            : null;
    }

    private static bool CameFromPushedRequest(ValidateAuthorizationRequestContext validation, OpenIddictRequest request)
    {
        if (validation.RequestTokenPrincipal?.GetClaim(Claims.Private.RequestParameters) is not { Length: > 0 } parameters)
        {
            return false;
        }

        using var document = JsonDocument.Parse(parameters);
        var pushed = document.RootElement;
        return pushed.ValueKind == JsonValueKind.Object
            && pushed.TryGetProperty(Parameters.ClientId, out var clientId) && clientId.ValueKind == JsonValueKind.String
            && string.Equals(clientId.GetString(), request.ClientId, StringComparison.Ordinal)
            && pushed.TryGetProperty(Parameters.RedirectUri, out var redirectUri) && redirectUri.ValueKind == JsonValueKind.String
            && string.Equals(redirectUri.GetString(), request.RedirectUri, StringComparison.Ordinal);
    }

    /// <summary>OpenIddict copies response_mode as sent; a refused request may carry one no response can use.</summary>
    public sealed class ResponseModeFallback : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
    {
        public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Transaction.GetProperty<string>(RedirectedKey) is not null
                && context.ResponseMode is not (ResponseModes.Query or ResponseModes.Fragment or ResponseModes.FormPost))
            {
                // RFC 6749 §4.1.2.1: the error parameters go in the query of the redirect URI.
                context.ResponseMode = ResponseModes.Query;
            }

            return ValueTask.CompletedTask;
        }
    }
}

using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// OAuth 2.0 Form Post Response Mode §2: OpenIddict answers with a page whose inline script posts the response to the
/// client's redirect URI. That page's Content-Security-Policy allows exactly that script (by hash) and a form post to
/// the redirect URI's origin, which OpenIddict has already checked against the client's registration.
/// </summary>
public sealed class FormPostPolicy : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
{
    /// <summary>The script of OpenIddict's form_post page, exactly as OpenIddict writes it.</summary>
    public const string SubmitScript = "document.form.submit();";

    /// <summary>After the response mode and redirect URI are final, before OpenIddict writes the form_post page.</summary>
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
            .UseSingletonHandler<FormPostPolicy>()
            .SetOrder(OpenIddictServerAspNetCoreHandlers.Authentication.ProcessFormPostResponse.Descriptor.Order - 1_000)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.ResponseMode == ResponseModes.FormPost
            && Uri.TryCreate(context.RedirectUri, UriKind.Absolute, out var redirectUri)
            && context.Transaction.GetHttpRequest()?.HttpContext is { } http)
        {
            PageAllowances.AllowFormPost(http, redirectUri, SubmitScript);
        }

        return ValueTask.CompletedTask;
    }
}

using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.Hosting;

namespace IdentityHub.Server.Saml;

/// <summary>
/// Bindings §3.5.4: the page whose script posts a SAMLResponse to the service provider. Its Content-Security-Policy
/// allows that one script (by hash) and a form post to that SP's origin, nothing else.
/// </summary>
public static class SamlPostPage
{
    public static IResult Response(HttpContext context, Uri destination, string xml, string? relayState)
    {
        PageAllowances.AllowFormPost(context, destination, PostBinding.AutoSubmitScript);
        return Results.Content(PostBinding.FormPage(destination, SamlParameters.Response, xml, relayState), "text/html; charset=utf-8");
    }
}

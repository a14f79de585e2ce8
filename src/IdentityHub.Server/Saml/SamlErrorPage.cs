using System.Net;

namespace IdentityHub.Server.Saml;

/// <summary>
/// What a person sees when a SAML message is refused. Never a redirect or a POST to an address taken from
/// the refused message: that address is unverified (an unknown SP would turn the IdP into an open redirector).
/// </summary>
public static class SamlErrorPage
{
    public static IResult Show(string message, int status = StatusCodes.Status400BadRequest) =>
        Results.Content(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign-in error</title>"
            + "<link rel=\"stylesheet\" href=\"/theme/login/site.css\"></head><body><main><h1>This sign-in request cannot be accepted</h1><p id=\"saml-error\">"
            + WebUtility.HtmlEncode(message) + "</p></main></body></html>",
            "text/html; charset=utf-8",
            statusCode: status);
}

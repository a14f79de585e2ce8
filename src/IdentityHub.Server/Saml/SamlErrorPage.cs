using System.Globalization;
using System.Net;
using IdentityHub.Server.Hosting;

namespace IdentityHub.Server.Saml;

/// <summary>
/// What a person sees when a SAML message is refused. Never a redirect or a POST to an address taken from
/// the refused message: that address is unverified (an unknown SP would turn the IdP into an open redirector).
/// </summary>
public static class SamlErrorPage
{
    public static IResult Show(string message, int status = StatusCodes.Status400BadRequest) => new Page(message, status);

    /// <summary>Rendered when it runs, in the reader's language and the request's theme (the reason itself is the protocol's, in English).</summary>
    private sealed class Page(string message, int status) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var texts = httpContext.RequestServices.GetRequiredService<ThemeMessages>();
            var files = httpContext.RequestServices.GetRequiredService<ThemeFiles>();
            var html = $"<!DOCTYPE html><html lang=\"{CultureInfo.CurrentUICulture.Name}\"><head><meta charset=\"utf-8\"><title>{Encode(texts["saml.error.title"])}</title>"
                + $"<link rel=\"stylesheet\" href=\"{Encode(files.Url("login/site.css"))}\"></head><body><main><h1>{Encode(texts["saml.error.heading"])}</h1><p id=\"saml-error\">"
                + Encode(message) + "</p></main></body></html>";
            return Results.Content(html, "text/html; charset=utf-8", statusCode: status).ExecuteAsync(httpContext);
        }

        private static string Encode(string text) => WebUtility.HtmlEncode(text);
    }
}

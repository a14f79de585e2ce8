using System.Diagnostics;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server;

/// <summary>One page for every error status, with the request id to quote to an administrator.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public string Title { get; private set; } = "Something went wrong";

    public string Explanation { get; private set; } = "The request could not be completed. Try again, or contact your administrator.";

    public string? RequestId { get; private set; }

    /// <summary>The OAuth 2.0 / OpenID Connect error code when a protocol request was refused without a redirect.</summary>
    public string? ProtocolError { get; private set; }

    public void OnGet(int? status) => Describe(status);

    public void OnPost(int? status) => Describe(status);

    private void Describe(int? status)
    {
        RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        (Title, Explanation) = status switch
        {
            404 => ("Page not found", "There is nothing at this address."),
            400 => ("Bad request", "The request was not understood. Go back and try again."),
            403 => ("Not allowed", "You do not have permission to do this."),
            _ => (Title, Explanation),
        };

        // RFC 6749 §4.1.2.1: with a bad client_id or redirect_uri the error is shown here, never sent back.
        if (HttpContext.GetOpenIddictServerResponse() is { Error: { Length: > 0 } error } response)
        {
            ProtocolError = error;
            (Title, Explanation) = ("Sign-in request refused", response.ErrorDescription ?? Explanation);
        }
    }
}

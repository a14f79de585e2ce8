using System.Diagnostics;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server;

/// <summary>One page for every error status, with the request id to quote to an administrator.</summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel(ThemeMessages texts) : PageModel
{
    public string Title { get; private set; } = "";

    public string Explanation { get; private set; } = "";

    public string? RequestId { get; private set; }

    /// <summary>The OAuth 2.0 / OpenID Connect error code when a protocol request was refused without a redirect.</summary>
    public string? ProtocolError { get; private set; }

    public void OnGet(int? status) => Describe(status);

    public void OnPost(int? status) => Describe(status);

    private void Describe(int? status)
    {
        RequestId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        var known = status is 400 or 403 or 404 ? $"error.{status}" : "error";
        (Title, Explanation) = (texts[known + ".title"], texts[known + ".text"]);

        // RFC 6749 §4.1.2.1: with a bad client_id or redirect_uri the error is shown here, never sent back.
        if (HttpContext.GetOpenIddictServerResponse() is { Error: { Length: > 0 } error } response)
        {
            ProtocolError = error;
            (Title, Explanation) = (texts["error.protocol.title"], response.ErrorDescription ?? Explanation);
        }
    }
}

using System.Diagnostics;
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
    }
}

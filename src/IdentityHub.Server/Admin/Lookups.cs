using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Admin;

/// <summary>One match of a picker's search: the id the form sends, the label the input shows, and a detail line to tell matches apart.</summary>
public sealed record LookupItem(string Id, string Label, string? Detail);

/// <summary>A picker's search answer: at most <see cref="DirectoryLookup.MaxResults"/> matches, and whether there are more (type more to narrow).</summary>
public sealed record LookupResult(IReadOnlyList<LookupItem> Items, bool More);

/// <summary>
/// The JSON search behind a picker (<c>GET ?q=text&amp;limit=n</c>). A console page, so the console's cookie and its section's
/// read rule guard it like the section's other pages; answers are never cached (they name people).
/// </summary>
public abstract class LookupPageModel : PageModel
{
    public const int DefaultLimit = 10;

    public async Task<IActionResult> OnGetAsync(string? q, int? limit, CancellationToken cancellationToken)
    {
        Response.Headers.CacheControl = "no-store";
        if (q is { Length: > DirectoryLookup.MaxTextLength })
        {
            return BadRequest(new ProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = $"q may have up to {DirectoryLookup.MaxTextLength} characters.",
            });
        }

        return new JsonResult(await FindAsync(q, limit ?? DefaultLimit, cancellationToken));
    }

    protected abstract Task<LookupResult> FindAsync(string? text, int limit, CancellationToken cancellationToken);
}

using System.Security.Claims;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>The recent security events of the person's own account (<see cref="AccountActivity"/>), newest first, paged.</summary>
[Authorize]
public sealed class ActivityModel(AccountActivity activity) : PageModel
{
    public const int PageSize = 20;

    public IReadOnlyList<AccountActivityEvent> Events { get; private set; } = [];

    public int PageNumber { get; private set; } = 1;

    public bool More { get; private set; }

    public async Task OnGetAsync(int p = 1)
    {
        PageNumber = Math.Max(1, p);
        var userId = User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No user id in the session.");
        (Events, More) = await activity.PageAsync(userId, PageNumber, PageSize, HttpContext.RequestAborted);
    }
}

using IdentityHub.Server.Account;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server;

/// <summary>The landing page: administrators go to the console, everyone else sees who they are signed in as.</summary>
[Authorize]
public sealed class IndexModel(IAuthorizationService authorization) : PageModel
{
    public string DisplayName { get; private set; } = "";

    public async Task<IActionResult> OnGetAsync()
    {
        if ((await authorization.AuthorizeAsync(User, ConsolePolicy.Name)).Succeeded)
        {
            return RedirectToPage("/Admin/Index");
        }

        DisplayName = User.Identity?.Name ?? "";
        return Page();
    }
}

using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary><c>/account</c> opens the first account page, the profile (a signed-out visitor signs in first).</summary>
[Authorize]
public sealed class AccountIndexModel : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Account/Profile");
}

using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>Ends the browser session. POST only (with the antiforgery token), so a link cannot sign anyone out.</summary>
public sealed class LogoutModel(SessionSignOut sessions) : PageModel
{
    public async Task<IActionResult> OnPostAsync()
    {
        await sessions.SignOutAsync(HttpContext);
        return Redirect("/account/login");
    }
}

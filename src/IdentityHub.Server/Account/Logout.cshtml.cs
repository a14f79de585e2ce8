using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>Ends the browser session. POST only (with the antiforgery token), so a link cannot sign anyone out.</summary>
public sealed class LogoutModel(SessionSignOut sessions) : PageModel
{
    public async Task<IActionResult> OnPostAsync()
    {
        var signedOut = User;
        await sessions.SignOutAsync(HttpContext);
        // SAML SPs of the session are told through the browser first (profiles §4.4.3.4).
        if (await sessions.FrontChannelPageAsync(HttpContext, signedOut, "/account/login") is { } page)
        {
            return Content(page, "text/html; charset=utf-8");
        }

        return Redirect("/account/login");
    }
}

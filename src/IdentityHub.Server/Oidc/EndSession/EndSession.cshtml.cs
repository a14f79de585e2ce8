using System.Security.Claims;
using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Primitives;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc.EndSession;

/// <summary>
/// OpenID Connect RP-Initiated Logout 1.0 (passthrough). OpenIddict has already refused an invalid
/// id_token_hint and any post_logout_redirect_uri not registered for the client, so a redirect below only
/// ever goes to a registered address, with the state echoed. Without an id_token_hint naming the signed-in
/// user, the user confirms first (§2: a logout link on another site must not sign anyone out silently).
/// </summary>
[IgnoreAntiforgeryToken] // An RP may POST the logout request; only our confirmation form is checked, below.
public sealed class EndSessionEndpoint(SessionSignOut sessions, IAntiforgery antiforgery) : PageModel
{
    public const string ConfirmField = "confirm";

    public bool SignedOut { get; private set; }

    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => EndSessionAsync();

    public Task<IActionResult> OnPostAsync() => EndSessionAsync();

    private async Task<IActionResult> EndSessionAsync()
    {
        var request = HttpContext.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        if (session.Succeeded)
        {
            var confirmed = Request.HasFormContentType && Request.Form.ContainsKey(ConfirmField);
            if (confirmed && !await antiforgery.IsRequestValidAsync(HttpContext))
            {
                return BadRequest();
            }

            if (!confirmed && !HintNames(session.Principal!))
            {
                Parameters = RequestParameters().ToList();
                return Page();
            }

            await sessions.SignOutAsync(HttpContext);
            // SAML SPs of the session are told through the browser, then this request runs again without a session.
            var again = "/connect/endsession" + QueryString.Create(RequestParameters().Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));
            if (await sessions.FrontChannelPageAsync(HttpContext, session.Principal, again) is { } page)
            {
                return Content(page, "text/html; charset=utf-8");
            }
        }

        if (string.IsNullOrEmpty(request.PostLogoutRedirectUri))
        {
            SignedOut = true;
            return Page();
        }

        // OpenIddict redirects to the validated post_logout_redirect_uri and appends the state (§3).
        return SignOut(new AuthenticationProperties(), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>Whether the id_token_hint (validated by OpenIddict, or by <see cref="IdTokenHintValidation"/> when its grant was revoked) was issued to the signed-in user.</summary>
    private bool HintNames(ClaimsPrincipal user)
    {
        var subject = (HttpContext.Items[IdTokenHintValidation.HintPrincipalItem] as ClaimsPrincipal)?.GetClaim(Claims.Subject);
        return subject is not null && subject == user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
    }

    private IEnumerable<KeyValuePair<string, string>> RequestParameters()
    {
        IEnumerable<KeyValuePair<string, StringValues>> source = Request.HasFormContentType ? Request.Form : Request.Query;
        return source
            .Where(p => p.Key is not (ConfirmField or "__RequestVerificationToken"))
            .SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? "")));
    }
}

using System.Security.Claims;
using IdentityHub.Core.Factors;
using IdentityHub.Core.Sessions;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Server.Identities;
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

namespace IdentityHub.Server.Oidc.Authorize;

/// <summary>
/// The authorization endpoint (passthrough, GET and POST): OpenIddict has validated the client, redirect URI,
/// response type, scopes and PKCE before this runs; here the user is authenticated, consent is asked or
/// remembered, and the code is issued. The page itself is the consent form.
/// </summary>
[IgnoreAntiforgeryToken] // An RP may POST an authorization request; only the consent answer carries our token, checked below.
public sealed class AuthorizeEndpoint(
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    UserManager<UserAccount> users,
    SignInManager<UserAccount> signIn,
    UserClaims userClaims,
    SessionParticipants participants,
    IAntiforgery antiforgery,
    MfaPolicy mfa,
    TimeProvider clock) : PageModel
{
    public const string AcceptField = "submit.Accept";
    public const string DenyField = "submit.Deny";
    private const string SecondFactorPath = "/account/login/mfa";

    public string ApplicationName { get; private set; } = "";

    public IReadOnlyList<ScopeDescription> Scopes { get; private set; } = [];

    /// <summary>The request's own parameters, posted back with the answer so the same request is resumed.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; private set; } = [];

    public Task<IActionResult> OnGetAsync() => AuthorizeAsync();

    public Task<IActionResult> OnPostAsync() => AuthorizeAsync();

    private async Task<IActionResult> AuthorizeAsync()
    {
        var request = HttpContext.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenID Connect request cannot be retrieved.");
        var cancellationToken = HttpContext.RequestAborted;

        var session = await HttpContext.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal) : null;
        if (user is null || !await IsAllowedAsync(user) || NeedsFreshLogin(request, session))
        {
            // OpenID Connect Core §3.1.2.1: prompt=none must not show any page.
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.LoginRequired, "The user is not signed in.");
            }

            if (user is not null && !await IsAllowedAsync(user))
            {
                // A suspended or departed user keeps no session: end it and ask for a sign-in the login page will refuse.
                await signIn.SignOutAsync();
            }

            return RedirectToLogin(request);
        }

        if (await NeedsSecondFactorAsync(request, user, session.Principal!, cancellationToken))
        {
            // OpenID Connect Core §3.1.2.6: prompt=none cannot show the second step.
            return request.HasPromptValue(PromptValues.None)
                ? Forbid(Errors.InteractionRequired, "The application requires a second factor and prompt=none forbids asking.")
                : RedirectToLogin(request, SecondFactorPath);
        }

        var application = await applications.FindByClientIdAsync(request.ClientId!, cancellationToken)
            ?? throw new InvalidOperationException("The client application cannot be found.");
        var applicationId = await applications.GetIdAsync(application, cancellationToken);
        var scopes = request.GetScopes();
        var remembered = await FindConsentAsync(user.Id, applicationId!, scopes, cancellationToken);
        var consentType = await applications.GetConsentTypeAsync(application, cancellationToken);

        if (Request.HasFormContentType && (Request.Form.ContainsKey(AcceptField) || Request.Form.ContainsKey(DenyField)))
        {
            // The consent answer is a form of ours: it must carry our antiforgery token (CSRF).
            if (!await antiforgery.IsRequestValidAsync(HttpContext))
            {
                return BadRequest();
            }

            if (Request.Form.ContainsKey(DenyField))
            {
                // RFC 6749 §4.1.2.1: the resource owner denied the request.
                return Forbid(Errors.AccessDenied, "The user denied the request.");
            }

            // Only an administrator grants externally consented applications; a posted Allow cannot.
            if (remembered is null && consentType == ConsentTypes.External)
            {
                return Forbid(Errors.ConsentRequired, "An administrator must authorize this application for you first.");
            }

            return await IssueAsync(request, user, session, application, remembered ?? await RememberConsentAsync(user, applicationId!, scopes, cancellationToken));
        }

        var consentNeeded = consentType switch
        {
            ConsentTypes.Implicit => false,
            ConsentTypes.External => remembered is null ? (bool?)null : false,
            _ => remembered is null || request.HasPromptValue(PromptValues.Consent),
        };
        if (consentNeeded is null)
        {
            return Forbid(Errors.ConsentRequired, "An administrator must authorize this application for you first.");
        }

        if (consentNeeded.Value)
        {
            if (request.HasPromptValue(PromptValues.None))
            {
                return Forbid(Errors.ConsentRequired, "Interactive consent is required.");
            }

            ApplicationName = await applications.GetLocalizedDisplayNameAsync(application, cancellationToken) ?? request.ClientId!;
            Scopes = ScopeDescription.Describe(scopes, HttpContext.RequestServices.GetRequiredService<IdentityHub.Server.Hosting.ThemeMessages>());
            Parameters = RequestParameters().Where(p => p.Key is not (AcceptField or DenyField or "__RequestVerificationToken")).ToList();
            return Page();
        }

        return await IssueAsync(request, user, session, application, remembered);
    }

    private async Task<IActionResult> IssueAsync(
        OpenIddictRequest request, UserAccount user, AuthenticateResult session, object application, object? authorization)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var identity = UserClaims.NewIdentity(request.GetScopes());
        if (session.Principal!.FindFirst(IdentityHubClaims.SessionId)?.Value is { } sid)
        {
            identity.SetClaim(IdentityHubClaims.SessionId, sid);
            await participants.RecordAsync(sid, SessionParticipants.OidcProtocol, request.ClientId!, user.Id, cancellationToken);
        }

        if (IdentityHubClaims.AuthenticatedAt(session) is { } issued)
        {
            identity.SetClaim(Claims.AuthenticationTime, System.Text.Json.JsonSerializer.SerializeToElement(issued.ToUnixTimeSeconds()));
        }

        // RFC 8176 amr and OpenID Connect Core §2 acr: how this session authenticated, and the class that makes.
        var methods = session.Principal.FindAll(IdentityHubClaims.AuthenticationMethods).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        if (methods.Count > 0)
        {
            UserClaims.SetArrayClaim(identity, Claims.AuthenticationMethodReference, methods);
            identity.SetClaim(Claims.AuthenticationContextReference, AuthnContextClasses.ForMethods(methods));
        }

        await userClaims.ApplyAsync(identity, user, request.ClientId!, cancellationToken);
        if (authorization is not null)
        {
            identity.SetAuthorizationId(await authorizations.GetIdAsync(authorization, cancellationToken));
        }

        return SignIn(new ClaimsPrincipal(identity), OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private async Task<object?> FindConsentAsync(string userId, string applicationId, System.Collections.Immutable.ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        await foreach (var authorization in authorizations.FindAsync(userId, applicationId, Statuses.Valid, AuthorizationTypes.Permanent, scopes, cancellationToken))
        {
            return authorization;
        }

        return null;
    }

    /// <summary>Consent is remembered as a permanent authorization; withdrawing it (account/applications) revokes it and its tokens.</summary>
    private async Task<object> RememberConsentAsync(UserAccount user, string applicationId, System.Collections.Immutable.ImmutableArray<string> scopes, CancellationToken cancellationToken)
    {
        var identity = UserClaims.NewIdentity(scopes);
        identity.SetClaim(Claims.Subject, user.Id);
        return await authorizations.CreateAsync(new ClaimsPrincipal(identity), user.Id, applicationId, AuthorizationTypes.Permanent, scopes, cancellationToken);
    }

    private async Task<bool> IsAllowedAsync(UserAccount user) =>
        await signIn.CanSignInAsync(user) && !await users.IsLockedOutAsync(user);

    /// <summary>OpenID Connect Core §3.1.2.1: prompt=login and max_age ask for a fresh authentication.</summary>
    private bool NeedsFreshLogin(OpenIddictRequest request, AuthenticateResult session) =>
        request.HasPromptValue(PromptValues.Login)
        || (request.MaxAge is { } maxAge && IdentityHubClaims.AuthenticatedAt(session) is { } issued
            && clock.GetUtcNow() - issued > TimeSpan.FromSeconds(maxAge));

    /// <summary>
    /// A session without a second factor is stepped up (not signed in again) when the application asks for MFA
    /// (acr_values with the REFEDS MFA class), is registered to require it, or the user's own policy requires it.
    /// </summary>
    private async Task<bool> NeedsSecondFactorAsync(OpenIddictRequest request, UserAccount user, ClaimsPrincipal session, CancellationToken cancellationToken)
    {
        if (MfaPolicy.IsSatisfiedBy(session.FindAll(IdentityHubClaims.AuthenticationMethods).Select(c => c.Value)))
        {
            return false;
        }

        var asked = (request.AcrValues ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(AuthnContextClasses.MultiFactor, StringComparer.Ordinal);
        return asked || await mfa.RequiredForClientAsync(request.ClientId!, cancellationToken) || await mfa.RequiredForUserAsync(user, cancellationToken);
    }

    private RedirectResult RedirectToLogin(OpenIddictRequest request, string page = "/account/login")
    {
        // prompt=login and max_age are dropped from the way back: the sign-in that follows is fresh, and keeping
        // them would send the user to the login page forever (max_age=0 always looks expired).
        var prompt = string.Join(' ', request.GetPromptValues().Remove(PromptValues.Login));
        var parameters = RequestParameters()
            .Where(p => p.Key is not (OpenIddictConstants.Parameters.Prompt or OpenIddictConstants.Parameters.MaxAge
                or AcceptField or DenyField or "__RequestVerificationToken"))
            .Select(p => KeyValuePair.Create(p.Key, new StringValues(p.Value)))
            .ToList();
        if (prompt.Length > 0)
        {
            parameters.Add(KeyValuePair.Create(OpenIddictConstants.Parameters.Prompt, new StringValues(prompt)));
        }

        var returnUrl = Request.PathBase + Request.Path + QueryString.Create(parameters);
        return Redirect(page + "?ReturnUrl=" + Uri.EscapeDataString(returnUrl));
    }

    private IEnumerable<KeyValuePair<string, string>> RequestParameters()
    {
        IEnumerable<KeyValuePair<string, StringValues>> source = Request.HasFormContentType ? Request.Form : Request.Query;
        return source.SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, v ?? "")));
    }

    private ForbidResult Forbid(string error, string description) => Forbid(
        new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }),
        OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
}

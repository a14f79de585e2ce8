using System.ComponentModel.DataAnnotations;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Factors;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Hosting.Telemetry;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// The second sign-in step: after the password (Identity's two-factor cookie holds the partly signed-in user), or to
/// step up a one-factor session an application needs with MFA. A user the policy requires to use MFA who has no factor
/// yet sets up the authenticator here first. Rate-limited per account and address; wrong codes count toward lockout.
/// </summary>
[AllowAnonymous]
public sealed class LoginMfaModel(
    SignInManager<UserAccount> signIn, AccountFactors factors, SignInLimits limits, ThemeMessages messages,
    AuditTrail audit, CurrentActor actor, ServerMetrics metrics, ILogger<LoginMfaModel> logger) : PageModel
{
    [BindProperty]
    [StringLength(64)]
    public string? Code { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>Set when the user has no factor yet and sets up the authenticator now.</summary>
    public AuthenticatorSetup? Enrolment { get; private set; }

    /// <summary>The recovery codes of a just finished enrolment, shown once.</summary>
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public string Continue => Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/";

    private ActiveUserSignInManager Manager => (ActiveUserSignInManager)signIn;

    public async Task<IActionResult> OnGetAsync()
    {
        var (user, _) = await WhoAsync();
        if (user is null)
        {
            return RedirectToLogin();
        }

        await PrepareAsync(user);
        return Page();
    }

    public Task<IActionResult> OnPostCodeAsync() => VerifyAsync("otp", (user, code) => signIn.UserManager.VerifyTwoFactorTokenAsync(user, TotpCodes.ProviderName, code));

    public Task<IActionResult> OnPostRecoveryAsync() => VerifyAsync("recovery-code", async (user, code) =>
        (await signIn.UserManager.RedeemTwoFactorRecoveryCodeAsync(user, code)).Succeeded);

    public Task<IActionResult> OnPostEnrolAsync()
    {
        IReadOnlyList<string>? codes = null;
        return VerifyAsync("otp-enrolment", async (user, code) => (codes = await factors.ConfirmTotpAsync(user, code, HttpContext.RequestAborted)) is not null,
            () => RecoveryCodes = codes);
    }

    private async Task<IActionResult> VerifyAsync(string method, Func<UserAccount, string, Task<bool>> check, Action? onEnrolled = null)
    {
        var (user, partial) = await WhoAsync();
        if (user is null)
        {
            return RedirectToLogin();
        }

        var address = RequestLimits.ClientAddress(HttpContext);
        if (limits.AdmitSecondFactor(address, user.Id) is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            logger.LogWarning("Second factor for {UserId} from {Address} refused by the rate limit for {Seconds} s", user.Id, address, seconds);
            RequestLimits.SetRetryAfter(Response, seconds);
            ErrorMessage = messages["login.error.throttled", seconds];
            metrics.SignIn(method.Replace('-', '_'), "throttled");
            await PrepareAsync(user);
            return Page();
        }

        var code = (Code ?? "").Trim();
        var result = await Manager.SecondFactorSignInAsync(user, () => check(user, code), partial ? [] : User.Claims.ToList());
        SignInActor.Set(actor, user);
        var type = result.Succeeded ? "signin.succeeded" : result.IsLockedOut ? "account.locked" : "signin.failed";
        metrics.SignIn(method.Replace('-', '_'), result.Succeeded ? "succeeded" : result.IsLockedOut ? "locked_out" : "failed");
        await audit.RecordEventAsync(type, "user", user.Id, new { method, stepUp = !partial, outcome = result.Succeeded ? "signed in" : result.IsLockedOut ? "locked out" : "bad code" }, HttpContext.RequestAborted);
        if (!result.Succeeded)
        {
            logger.LogWarning("Second factor ({Method}) failed for {UserId}", method, user.Id);
            ErrorMessage = messages["mfa.error.invalid"];
            await PrepareAsync(user);
            return Page();
        }

        logger.LogInformation("User {UserId} completed the second factor ({Method})", user.Id, method);
        if (method == "recovery-code")
        {
            await factors.RecordRecoveryCodeUsedAsync(user, HttpContext.RequestAborted);
        }

        if (onEnrolled is not null)
        {
            onEnrolled();
            return Page();
        }

        // Only local addresses: a return URL is attacker-controlled input (open redirect).
        return LocalRedirect(Continue);
    }

    /// <summary>The partly signed-in user (after the password), else the signed-in user stepping up.</summary>
    private async Task<(UserAccount? User, bool Partial)> WhoAsync()
    {
        if (await signIn.GetTwoFactorAuthenticationUserAsync() is { } partial)
        {
            return (partial, true);
        }

        return signIn.IsSignedIn(User) && await signIn.UserManager.GetUserAsync(User) is { } user ? (user, false) : (null, false);
    }

    private async Task PrepareAsync(UserAccount user)
    {
        Enrolment = await factors.HasTotpAsync(user) ? null : AuthenticatorSetup.For(user, await factors.EnrolmentKeyAsync(user));
    }

    private RedirectResult RedirectToLogin() => Redirect("/account/login?ReturnUrl=" + Uri.EscapeDataString(Continue));
}

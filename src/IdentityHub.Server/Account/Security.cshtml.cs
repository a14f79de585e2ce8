using IdentityHub.Core.Factors;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// The signed-in person's own factors: set up the authenticator app (QR code, key, a code to confirm), recovery codes
/// (shown once, regenerated on demand), turning the authenticator off (a current code or the password), and the list
/// of their factor changes from the audit trail.
/// </summary>
[Authorize]
public sealed class SecurityModel(
    UserManager<UserAccount> users, SignInManager<UserAccount> signIn, AccountFactors factors, SignInLimits limits, AccountLockout lockout,
    ThemeMessages messages) : PageModel
{
    private const int EventsShown = 50;

    [BindProperty]
    public string? Code { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    public bool TotpEnabled { get; private set; }

    public int RecoveryCodesLeft { get; private set; }

    public AuthenticatorSetup? Enrolment { get; private set; }

    public IReadOnlyList<string>? RecoveryCodes { get; private set; }

    public IReadOnlyList<FactorEvent> Events { get; private set; } = [];

    public string? ErrorMessage { get; private set; }

    public string? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync() => await ShowAsync();

    public async Task<IActionResult> OnPostEnableAsync()
    {
        if (await UserAsync() is not { } user)
        {
            return Challenge();
        }

        if (RefusedByLimit(user))
        {
            return await ShowAsync();
        }

        RecoveryCodes = await factors.ConfirmTotpAsync(user, (Code ?? "").Trim(), HttpContext.RequestAborted);
        if (RecoveryCodes is null)
        {
            ErrorMessage = messages["mfa.error.invalid"];
        }
        else
        {
            await ((ActiveUserSignInManager)signIn).RenewSessionAsync(user, User);
            Message = messages["mfa.enrol.done"];
        }
        return await ShowAsync();
    }

    public async Task<IActionResult> OnPostRegenerateAsync()
    {
        if (await UserAsync() is not { } user || !await factors.HasTotpAsync(user))
        {
            return await ShowAsync();
        }

        RecoveryCodes = await factors.RegenerateRecoveryCodesAsync(user, HttpContext.RequestAborted);
        return await ShowAsync();
    }

    /// <summary>Turning the factor off takes proof of presence: a current code, or the password.</summary>
    public async Task<IActionResult> OnPostDisableAsync()
    {
        if (await UserAsync() is not { } user)
        {
            return Challenge();
        }

        if (RefusedByLimit(user))
        {
            return await ShowAsync();
        }

        var proven = !string.IsNullOrWhiteSpace(Code)
            ? await users.VerifyTwoFactorTokenAsync(user, TotpCodes.ProviderName, Code.Trim())
            : !string.IsNullOrEmpty(Password) && await users.CheckPasswordAsync(user, Password);
        if (!proven)
        {
            await lockout.RecordFailureAsync(users, user);
            ErrorMessage = messages["mfa.error.proof"];
            return await ShowAsync();
        }

        await factors.RemoveTotpAsync(user, HttpContext.RequestAborted);
        await ((ActiveUserSignInManager)signIn).RenewSessionAsync(user, User);
        Message = messages["mfa.disabled"];
        return await ShowAsync();
    }

    private async Task<PageResult> ShowAsync()
    {
        var user = await UserAsync() ?? throw new InvalidOperationException("No user for the session.");
        TotpEnabled = await factors.HasTotpAsync(user);
        RecoveryCodesLeft = TotpEnabled ? await users.CountRecoveryCodesAsync(user) : 0;
        Enrolment = TotpEnabled || RecoveryCodes is not null ? null : AuthenticatorSetup.For(user, await factors.EnrolmentKeyAsync(user));
        Events = await factors.EventsOfAsync(user.Id, EventsShown, HttpContext.RequestAborted);
        return Page();
    }

    /// <summary>Codes and passwords typed here are guesses like any other: the second-factor limits apply.</summary>
    private bool RefusedByLimit(UserAccount user)
    {
        if (limits.AdmitSecondFactor(RequestLimits.ClientAddress(HttpContext), user.Id) is not { } wait)
        {
            return false;
        }

        var seconds = RequestLimits.RetryAfterSeconds(wait);
        RequestLimits.SetRetryAfter(Response, seconds);
        ErrorMessage = messages["login.error.throttled", seconds];
        return true;
    }

    private Task<UserAccount?> UserAsync() => users.GetUserAsync(User);
}

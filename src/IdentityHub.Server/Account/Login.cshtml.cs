using System.ComponentModel.DataAnnotations;
using IdentityHub.Core.Audit;
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
/// The sign-in form. Failures say the same thing, with the same status and in about the same time, whatever went wrong
/// (unknown name, wrong password, locked or suspended account), so accounts cannot be probed.
/// </summary>
[AllowAnonymous]
public sealed partial class LoginModel(
    SignInManager<UserAccount> signIn, SignInLimits limits, ThemeMessages messages, AuditTrail audit, CurrentActor actor, ServerMetrics metrics,
    AccountLockout lockout, LoginTemplate template, ILogger<LoginModel> logger) : PageModel
{
    /// <summary>The English text of <c>login.error.invalid</c>, the one answer to every failed sign-in.</summary>
    public const string InvalidCredentials = "The user name or password is incorrect.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }

    /// <summary>
    /// How long a lockout lasts, said with every failed sign-in: telling only the locked account would tell which accounts
    /// exist (the one answer above is the same for all).
    /// </summary>
    public string? LockoutPolicy { get; private set; }

    [BindProperty(SupportsGet = true, Name = "reset")]
    public string? Reset { get; set; }

    public bool ResetDone => Reset == "done";

    public Task<IActionResult> OnGetAsync() => ShowAsync();

    public async Task<IActionResult> OnPostAsync()
    {
        CheckInput();
        if (!ModelState.IsValid)
        {
            return await ShowAsync();
        }

        var address = RequestLimits.ClientAddress(HttpContext);
        var account = signIn.UserManager.NormalizeName(Input.UserName) ?? "";
        if (limits.Admit(address, account) is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            logger.LogWarning("Password sign-in for {UserName} from {Address} refused by the rate limit for {Seconds} s", Input.UserName, address, seconds);
            RequestLimits.SetRetryAfter(Response, seconds);
            metrics.SignIn("password", "throttled");
            ErrorMessage = messages["login.error.throttled", seconds];
            return await ShowAsync();
        }

        var result = await signIn.PasswordSignInAsync(Input.UserName, Input.Password, isPersistent: false, lockoutOnFailure: true);
        await RecordAsync(result);
        if (result.Succeeded)
        {
            logger.LogInformation("User {UserName} signed in with a password", Input.UserName);
            // Only local addresses: a return URL is attacker-controlled input (open redirect).
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }

        if (result.RequiresTwoFactor)
        {
            // The password was right; Identity's two-factor cookie carries the user to the second step.
            return LocalRedirect("/account/login/mfa?ReturnUrl=" + Uri.EscapeDataString(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/"));
        }

        limits.RecordFailure(address, account);
        logger.LogWarning("Password sign-in failed for {UserName}: {Outcome}", Input.UserName, Describe(result));
        ErrorMessage = messages["login.error.invalid"];
        LockoutPolicy = messages["login.error.lockoutPolicy", lockout.MaxFailedAttempts, Minutes(lockout.Duration), Minutes(lockout.MaxDuration)];
        return await ShowAsync();
    }

    private static string Minutes(TimeSpan span) => Math.Max(1, (int)Math.Round(span.TotalMinutes)).ToString(System.Globalization.CultureInfo.CurrentCulture);

    /// <summary>The theme's <c>login/login.liquid</c> when it has a usable one, else this Razor page.</summary>
    private async Task<IActionResult> ShowAsync() => await template.RenderAsync(this) is { } themed ? themed : Page();

    /// <summary>Security events go to the audit trail: who tried, from where, and what came of it.</summary>
    private async Task RecordAsync(Microsoft.AspNetCore.Identity.SignInResult result)
    {
        var user = await signIn.UserManager.FindByNameAsync(Input.UserName);
        actor.Value = actor.Value with { Id = user?.Id ?? "anonymous", Name = Input.UserName.Length > 256 ? Input.UserName[..256] : Input.UserName };
        var type = result.Succeeded ? "signin.succeeded" : result.RequiresTwoFactor ? "signin.password-verified" : result.IsLockedOut ? "account.locked" : "signin.failed";
        metrics.SignIn("password", MetricOutcome(result));
        await audit.RecordEventAsync(type, user is null ? null : "user", user?.Id, new { method = "password", outcome = result.Succeeded ? "signed in" : Describe(result) }, HttpContext.RequestAborted);
    }

    /// <summary>The sign-in metric's outcome label: succeeded, or <see cref="Describe"/> in snake case (locked_out, two_factor_required…).</summary>
    private static string MetricOutcome(Microsoft.AspNetCore.Identity.SignInResult result) =>
        result.Succeeded ? "succeeded" : Describe(result).Replace(' ', '_').Replace('-', '_');

    private static string Describe(Microsoft.AspNetCore.Identity.SignInResult result) =>
        result.IsLockedOut ? "locked out" : result.IsNotAllowed ? "not allowed" : result.RequiresTwoFactor ? "two-factor required" : "bad credentials";

    /// <summary>The form's own checks, in the reader's language (data annotations would answer in English).</summary>
    private void CheckInput()
    {
        // A non-nullable string is implicitly required: that English error is replaced by the ones below.
        ModelState.Remove("Input.UserName");
        ModelState.Remove("Input.Password");
        Input.UserName ??= "";
        Input.Password ??= "";
        if (string.IsNullOrEmpty(Input.UserName))
        {
            ModelState.AddModelError("Input.UserName", messages["login.error.usernameRequired"]);
        }
        else if (Input.UserName.Length > LoginInput.UserNameMaxLength)
        {
            ModelState.AddModelError("Input.UserName", messages["login.error.usernameLength"]);
        }

        if (string.IsNullOrEmpty(Input.Password))
        {
            ModelState.AddModelError("Input.Password", messages["login.error.passwordRequired"]);
        }
        else if (Input.Password.Length > LoginInput.PasswordMaxLength)
        {
            ModelState.AddModelError("Input.Password", messages["login.error.passwordLength"]);
        }
    }

    public sealed class LoginInput
    {
        public const int UserNameMaxLength = 256;
        public const int PasswordMaxLength = 1024;

        public string UserName { get; set; } = "";

        [DataType(DataType.Password)]
        public string Password { get; set; } = "";
    }
}

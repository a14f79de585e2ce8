using System.ComponentModel.DataAnnotations;
using IdentityHub.Core.Audit;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>The sign-in form. Failures say the same thing whatever went wrong, so accounts cannot be probed.</summary>
[AllowAnonymous]
public sealed class LoginModel(SignInManager<UserAccount> signIn, AuditTrail audit, CurrentActor actor, ILogger<LoginModel> logger) : PageModel
{
    public const string InvalidCredentials = "The user name or password is incorrect.";
    public const string LockedOut = "Too many failed attempts. Try again later.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public string? ErrorMessage { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var result = await signIn.PasswordSignInAsync(Input.UserName, Input.Password, isPersistent: false, lockoutOnFailure: true);
        await RecordAsync(result);
        if (result.Succeeded)
        {
            logger.LogInformation("User {UserName} signed in with a password", Input.UserName);
            // Only local addresses: a return URL is attacker-controlled input (open redirect).
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }

        logger.LogWarning("Password sign-in failed for {UserName}: {Outcome}", Input.UserName, Describe(result));
        ErrorMessage = result.IsLockedOut ? LockedOut : InvalidCredentials;
        return Page();
    }

    /// <summary>Security events go to the audit trail: who tried, from where, and what came of it.</summary>
    private async Task RecordAsync(Microsoft.AspNetCore.Identity.SignInResult result)
    {
        var user = await signIn.UserManager.FindByNameAsync(Input.UserName);
        actor.Value = actor.Value with { Id = user?.Id ?? "anonymous", Name = Input.UserName.Length > 256 ? Input.UserName[..256] : Input.UserName };
        var type = result.Succeeded ? "signin.succeeded" : result.IsLockedOut ? "account.locked" : "signin.failed";
        await audit.RecordEventAsync(type, user is null ? null : "user", user?.Id, new { method = "password", outcome = result.Succeeded ? "signed in" : Describe(result) }, HttpContext.RequestAborted);
    }

    private static string Describe(Microsoft.AspNetCore.Identity.SignInResult result) =>
        result.IsLockedOut ? "locked out" : result.IsNotAllowed ? "not allowed" : result.RequiresTwoFactor ? "two-factor required" : "bad credentials";

    public sealed class LoginInput
    {
        [Required(ErrorMessage = "Enter your user name.")]
        [StringLength(256, ErrorMessage = "The user name is too long.")]
        [Display(Name = "User name")]
        public string UserName { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [StringLength(1024, ErrorMessage = "The password is too long.")]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";
    }
}

using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// After signing in with a temporary password: choose your own before anything else, then go on to where you were going
/// (an OIDC or SAML flow included).
/// </summary>
[Authorize]
public sealed class PasswordRequiredModel(AccountRecovery recovery, ActiveUserSignInManager signIn, ThemeMessages texts) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty]
    public ChangeInput Input { get; set; } = new();

    public string? ErrorMessage { get; private set; }

    /// <summary>The rules the new password broke, in Identity's words (<see cref="ThemedIdentityErrorDescriber"/>).</summary>
    public IReadOnlyList<string> Problems { get; private set; } = [];

    public IActionResult OnGet() =>
        User.HasClaim(c => c.Type == PasswordChangeGate.Claim) ? Page() : LocalRedirect(Target);

    public async Task<IActionResult> OnPostAsync()
    {
        var userId = User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null)
        {
            return LocalRedirect("/account/login");
        }

        if (!ModelState.IsValid || Input.NewPassword != Input.Confirm)
        {
            ErrorMessage = Input.NewPassword != Input.Confirm ? texts["reset.error.mismatch"] : texts["reset.error.policy"];
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        try
        {
            await recovery.ChangePasswordAsync(userId, Input.CurrentPassword, Input.NewPassword, HttpContext.RequestAborted);
        }
        catch (RuleViolation violation)
        {
            ErrorMessage = violation.Errors.ContainsKey("currentPassword") ? texts["reset.error.current"]
                : violation.Errors.ContainsKey("newPassword") && violation.Codes.Values.Any(c => c.Code == "password.same") ? texts["reset.error.same"]
                : texts["reset.error.policy"];
            if (violation.Codes.Count == 0)
            {
                Problems = violation.Errors.GetValueOrDefault("newPassword") ?? [];
            }

            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        // The stamp changed: this session goes on with the new one (and without the must-change mark).
        if (await signIn.UserManager.FindByIdAsync(userId) is { } user)
        {
            await signIn.RenewSessionAsync(user, User);
        }

        return LocalRedirect(Target);
    }

    private string Target => Url.IsLocalUrl(ReturnUrl) && !ReturnUrl.StartsWith(PasswordChangeGate.PagePath, StringComparison.OrdinalIgnoreCase) ? ReturnUrl : "/";

    public sealed class ChangeInput
    {
        [Required]
        [StringLength(1024)]
        [DataType(DataType.Password)]
        public string CurrentPassword { get; set; } = "";

        [Required]
        [StringLength(1024)]
        [DataType(DataType.Password)]
        public string NewPassword { get; set; } = "";

        [Required]
        [StringLength(1024)]
        [DataType(DataType.Password)]
        public string Confirm { get; set; } = "";
    }
}

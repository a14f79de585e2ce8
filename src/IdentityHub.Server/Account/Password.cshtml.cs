using System.Security.Claims;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.Account;

/// <summary>
/// Change password: the policy in words before typing, the current password required (a wrong one counts toward the
/// lockout like a sign-in guess), each broken rule named. The person's other sessions end; this one is renewed and stays.
/// </summary>
[Authorize]
public sealed class PasswordModel(
    UserManager<UserAccount> users, ActiveUserSignInManager signIn, UserDirectory directory, IOptions<IdentityOptions> identity,
    SignInLimits limits, AccountLockout lockout, ThemeMessages messages) : PageModel
{
    [BindProperty]
    public string? CurrentPassword { get; set; }

    [BindProperty]
    public string? NewPassword { get; set; }

    [BindProperty]
    public string? ConfirmPassword { get; set; }

    public IReadOnlyList<PasswordRule> Rules { get; private set; } = [];

    /// <summary>The rules the new password broke (by <see cref="PasswordRule.Key"/>).</summary>
    public HashSet<string> Broken { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, List<string>> Errors { get; } = new(StringComparer.Ordinal);

    public string? Message { get; private set; }

    public void OnGet() => Rules = PasswordRules.Describe(identity.Value.Password, messages);

    public async Task<IActionResult> OnPostAsync()
    {
        Rules = PasswordRules.Describe(identity.Value.Password, messages);
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        if (limits.AdmitSecondFactor(RequestLimits.ClientAddress(HttpContext), user.Id) is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            RequestLimits.SetRetryAfter(Response, seconds);
            return Refused("currentPassword", messages["login.error.throttled", seconds]);
        }

        if (string.IsNullOrEmpty(CurrentPassword))
        {
            return Refused("currentPassword", messages["account.password.error.currentRequired"]);
        }

        if (!string.Equals(NewPassword, ConfirmPassword, StringComparison.Ordinal))
        {
            return Refused("confirmPassword", messages["account.password.error.confirm"]);
        }

        var problems = await directory.ChangeOwnPasswordAsync(user.Id, CurrentPassword, NewPassword ?? "",
            User.FindFirstValue(IdentityHubClaims.SessionId), HttpContext.RequestAborted);
        if (problems.Count > 0)
        {
            if (problems.Any(p => p.Code == nameof(IdentityErrorDescriber.PasswordMismatch)))
            {
                await lockout.RecordFailureAsync(users, user);
                return Refused("currentPassword", messages["account.password.error.current"]);
            }

            foreach (var problem in problems)
            {
                if (Rules.FirstOrDefault(r => r.ErrorCode == problem.Code) is { } rule)
                {
                    Broken.Add(rule.Key);
                    Add("newPassword", messages["account.password.broken", rule.Text]);
                }
                else
                {
                    // A rule this page does not describe (a validator added later) still says what it wants.
                    Add("newPassword", problem.Description);
                }
            }

            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        // The security stamp changed: this session is signed in again with its sid, so only the others end.
        await signIn.RenewSessionAsync((await users.FindByIdAsync(user.Id))!, User);
        CurrentPassword = NewPassword = ConfirmPassword = null;
        Message = messages["account.password.changed"];
        return Page();
    }

    private PageResult Refused(string field, string message)
    {
        Add(field, message);
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }

    private void Add(string field, string message)
    {
        if (!Errors.TryGetValue(field, out var list))
        {
            Errors[field] = list = [];
        }

        if (!list.Contains(message, StringComparer.Ordinal))
        {
            list.Add(message);
        }
    }
}

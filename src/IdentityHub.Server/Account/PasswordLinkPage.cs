using System.ComponentModel.DataAnnotations;
using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// A page reached by a mailed link (<c>?user=..&amp;token=..</c>) that sets a password: the invitation's first one or a reset.
/// The link is checked before the form shows and again when it is posted; a spent or expired link shows one refusal.
/// </summary>
public abstract class PasswordLinkPage(AccountRecovery recovery, SignInLimits limits, ThemeMessages texts, LinkKind kind) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "user")]
    public string? UserId { get; set; }

    [BindProperty(SupportsGet = true, Name = "token")]
    public string? Token { get; set; }

    [BindProperty]
    public NewPasswordInput Input { get; set; } = new();

    public bool LinkValid { get; private set; }

    public string? UserName { get; private set; }

    public string? ErrorMessage { get; protected set; }

    /// <summary>The rules the password broke, in Identity's words (<see cref="ThemedIdentityErrorDescriber"/>).</summary>
    public IReadOnlyList<string> Problems { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        var user = await recovery.CheckLinkAsync(UserId, Token, kind);
        return Show(user, user is null ? StatusCodes.Status400BadRequest : StatusCodes.Status200OK);
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var address = RequestLimits.ClientAddress(HttpContext);
        // Under the sign-in limits: a link's token is guessed no faster than a password.
        if (limits.Admit(address, "(link)") is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            RequestLimits.SetRetryAfter(Response, seconds);
            ErrorMessage = texts["login.error.throttled", seconds];
            LinkValid = true;
            return Page();
        }

        var user = await recovery.CheckLinkAsync(UserId, Token, kind);
        if (user is null)
        {
            limits.RecordFailure(address, "(link)");
            return Show(null, StatusCodes.Status400BadRequest);
        }

        if (!ModelState.IsValid || Input.Password != Input.Confirm)
        {
            ErrorMessage = Input.Password != Input.Confirm ? texts["reset.error.mismatch"] : texts["reset.error.policy"];
            return Show(user, StatusCodes.Status400BadRequest);
        }

        try
        {
            user = await recovery.SetPasswordByLinkAsync(UserId, Token, kind, Input.Password, HttpContext.RequestAborted);
        }
        catch (RuleViolation violation)
        {
            ErrorMessage = violation.Errors.ContainsKey("password") ? texts["reset.error.policy"] : texts["reset.error.link"];
            Problems = violation.Errors.GetValueOrDefault("password") ?? [];
            return Show(violation.Errors.ContainsKey("password") ? user : null, StatusCodes.Status400BadRequest);
        }

        return await CompletedAsync(user);
    }

    protected abstract Task<IActionResult> CompletedAsync(UserAccount user);

    private PageResult Show(UserAccount? user, int status)
    {
        LinkValid = user is not null;
        UserName = user?.UserName;
        Response.StatusCode = status;
        return Page();
    }

    public sealed class NewPasswordInput
    {
        [Required]
        [StringLength(1024)]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Required]
        [StringLength(1024)]
        [DataType(DataType.Password)]
        public string Confirm { get; set; } = "";
    }
}

using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// Forgot password, by user name or e-mail address: the answer is the same, and comes after the same time
/// (<c>Account:ForgotResponseTime</c>, default 1 s, from the start of the request), whether or not an account matched.
/// </summary>
[AllowAnonymous]
public sealed class ForgotModel(
    AccountRecovery recovery, SignInLimits limits, ThemeMessages texts, UserManager<UserAccount> users, IConfiguration configuration,
    ILogger<ForgotModel> logger) : PageModel
{
    [BindProperty]
    [Required]
    [StringLength(256)]
    public string NameOrEmail { get; set; } = "";

    public bool Sent { get; private set; }

    public string? ErrorMessage { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var started = Stopwatch.GetTimestamp();
        if (!ModelState.IsValid)
        {
            ErrorMessage = texts["reset.forgot.error.required"];
            return Page();
        }

        var address = RequestLimits.ClientAddress(HttpContext);
        if (limits.Admit(address, users.NormalizeName(NameOrEmail.Trim()) ?? "") is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            logger.LogWarning("Password reset request from {Address} refused by the sign-in rate limit for {Seconds} s", address, seconds);
            RequestLimits.SetRetryAfter(Response, seconds);
            ErrorMessage = texts["login.error.throttled", seconds];
            return Page();
        }

        await recovery.RequestResetAsync(NameOrEmail, HttpContext.RequestAborted);
        // Every request counts as a failure for this name from this address: asking for resets is not free either.
        limits.RecordFailure(address, users.NormalizeName(NameOrEmail.Trim()) ?? "");
        var floor = configuration.GetValue("Account:ForgotResponseTime", TimeSpan.FromSeconds(1));
        var left = floor - Stopwatch.GetElapsedTime(started);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, HttpContext.RequestAborted);
        }

        Sent = true;
        return Page();
    }
}

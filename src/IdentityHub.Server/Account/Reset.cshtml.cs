using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Account;

/// <summary>The reset link: a new password; the person's sessions ended with it, and they sign in again.</summary>
[AllowAnonymous]
public sealed class ResetModel(AccountRecovery recovery, SignInLimits limits, ThemeMessages texts)
    : PasswordLinkPage(recovery, limits, texts, LinkKind.Reset)
{
    protected override Task<IActionResult> CompletedAsync(UserAccount user) =>
        Task.FromResult<IActionResult>(LocalRedirect("/account/login?reset=done"));
}

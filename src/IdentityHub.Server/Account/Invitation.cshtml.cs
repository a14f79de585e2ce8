using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Account;

/// <summary>The invitation link: the person chooses their first password and is signed in with it (MFA, if required, follows).</summary>
[AllowAnonymous]
public sealed class InvitationModel(AccountRecovery recovery, SignInLimits limits, ThemeMessages texts, SignInManager<UserAccount> signIn)
    : PasswordLinkPage(recovery, limits, texts, LinkKind.Invitation)
{
    protected override async Task<IActionResult> CompletedAsync(UserAccount user)
    {
        // The ordinary password sign-in, so a second factor the policy requires is asked for as always.
        var result = await signIn.PasswordSignInAsync(user.UserName!, Input.Password, isPersistent: false, lockoutOnFailure: false);
        return result.RequiresTwoFactor ? LocalRedirect("/account/login/mfa?ReturnUrl=%2F")
            : result.Succeeded ? LocalRedirect("/")
            : LocalRedirect("/account/login");
    }
}

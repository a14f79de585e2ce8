using IdentityHub.Core.Directory;
using IdentityHub.Server.Limits;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Account;

/// <summary>
/// Passwordless sign-in with a passkey, from the same page: the browser fetches request options (no user name: the
/// authenticator offers its discoverable credentials), runs <c>navigator.credentials.get</c> and posts the answer.
/// Every refusal, whatever its cause, says the same thing.
/// </summary>
public sealed partial class LoginModel
{
    /// <summary>WebAuthn §5.5 request options for <c>navigator.credentials.get</c>; the challenge is kept in a short-lived cookie.</summary>
    public async Task<IActionResult> OnPostPasskeyOptionsAsync([FromServices] ActiveUserSignInManager passkeySignIn) =>
        Content(await passkeySignIn.MakePasskeyRequestOptionsAsync(null), "application/json");

    public async Task<IActionResult> OnPostPasskeyAsync(
        string? credential, [FromServices] ActiveUserSignInManager passkeySignIn, [FromServices] UserPasskeys passkeys)
    {
        // The user name and password fields are not part of this form.
        ModelState.Clear();
        var address = RequestLimits.ClientAddress(HttpContext);
        if (limits.AdmitPasskey(address) is { } wait)
        {
            var seconds = RequestLimits.RetryAfterSeconds(wait);
            logger.LogWarning("Passkey sign-in from {Address} refused by the rate limit for {Seconds} s", address, seconds);
            RequestLimits.SetRetryAfter(Response, seconds);
            ErrorMessage = messages["login.error.throttled", seconds];
            metrics.SignIn("passkey", "throttled");
            return await ShowAsync();
        }

        var outcome = string.IsNullOrEmpty(credential)
            ? new PasskeySignIn(Microsoft.AspNetCore.Identity.SignInResult.Failed, null, null)
            : await passkeySignIn.SignInWithPasskeyAsync(credential);
        var result = outcome.Result;
        actor.Value = actor.Value with { Id = outcome.User?.Id ?? "anonymous", Name = outcome.User?.UserName ?? "anonymous" };
        var passkeyId = outcome.CredentialId is null ? null : UserPasskeys.IdOf(outcome.CredentialId);
        metrics.SignIn("passkey", MetricOutcome(result));
        await audit.RecordEventAsync(
            result.Succeeded ? "signin.succeeded" : result.IsLockedOut ? "account.locked" : "signin.failed",
            outcome.User is null ? null : "user", outcome.User?.Id,
            new { method = "passkey", passkey = passkeyId, outcome = result.Succeeded ? "signed in" : Describe(result) },
            HttpContext.RequestAborted);
        if (result.Succeeded)
        {
            await passkeys.RecordUseAsync(outcome.CredentialId!, HttpContext.RequestAborted);
            logger.LogInformation("User {UserName} signed in with a passkey", outcome.User!.UserName);
            // Only local addresses: a return URL is attacker-controlled input (open redirect).
            return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl : "/");
        }

        limits.RecordPasskeyFailure(address);
        logger.LogWarning("Passkey sign-in failed for {UserId}: {Outcome}", outcome.User?.Id ?? "an unknown credential", Describe(result));
        ErrorMessage = messages["login.error.passkey"];
        return await ShowAsync();
    }
}

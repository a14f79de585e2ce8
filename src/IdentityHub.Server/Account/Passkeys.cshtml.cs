using System.Security.Claims;
using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Server.Admin;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>
/// The signed-in person's passkeys: each with its name, when it was registered and last used; register another
/// (WebAuthn attestation, passkeys.js), rename, remove. Every change is an audit event of the user (UserPasskeys).
/// </summary>
[Authorize]
public sealed class PasskeysModel(UserPasskeys passkeys, ActiveUserSignInManager signIn, ThemeMessages texts, ILogger<PasskeysModel> logger) : PageModel
{
    public IReadOnlyList<PasskeySummary> Passkeys { get; private set; } = [];

    [BindProperty]
    public NewPasskey Input { get; set; } = new();

    public ConsoleAlert? Alert { get; private set; }

    public async Task OnGetAsync() => Passkeys = await passkeys.ListAsync(UserId, HttpContext.RequestAborted);

    /// <summary>WebAuthn §5.4 creation options for <c>navigator.credentials.create</c>; the challenge is kept in a short-lived cookie.</summary>
    public async Task<IActionResult> OnPostOptionsAsync()
    {
        var user = await signIn.UserManager.GetUserAsync(User);
        if (user is null)
        {
            return Forbid();
        }

        var entity = new PasskeyUserEntity { Id = user.Id, Name = user.UserName ?? user.Id, DisplayName = string.IsNullOrEmpty(user.DisplayName) ? user.UserName ?? user.Id : user.DisplayName };
        return Content(await signIn.MakePasskeyCreationOptionsAsync(entity), "application/json");
    }

    public async Task<IActionResult> OnPostAddAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        PasskeyAttestationResult? attestation = null;
        if (!string.IsNullOrEmpty(Input.Credential))
        {
            try
            {
                attestation = await signIn.PerformPasskeyAttestationAsync(Input.Credential);
            }
            catch (InvalidOperationException)
            {
                // No creation options were issued to this browser, or they were already used.
            }
        }

        if (attestation is not { Succeeded: true })
        {
            logger.LogWarning("Passkey registration for {UserId} failed: {Reason}", UserId, attestation?.Failure?.Message ?? "no credential");
            return await ShowAsync(new ConsoleAlert(texts["passkeys.error.notRegistered"], []), StatusCodes.Status400BadRequest);
        }

        try
        {
            var added = await passkeys.AddAsync(UserId, attestation.Passkey, Input.Name, cancellationToken);
            await RenewSessionAsync();
            return await ShowAsync(new ConsoleAlert(texts["passkeys.added", added.Name], [], IsError: false));
        }
        catch (RuleViolation violation)
        {
            var alert = ModelState.Show(violation, Response, texts);
            return await ShowAsync(alert, Response.StatusCode);
        }
    }

    public async Task<IActionResult> OnPostRenameAsync(string id, string? name)
    {
        try
        {
            await passkeys.RenameAsync(UserId, id, name, HttpContext.RequestAborted);
            return await ShowAsync(new ConsoleAlert(texts["passkeys.renamed", name!.Trim()], [], IsError: false));
        }
        catch (RuleViolation violation)
        {
            var alert = ModelState.Show(violation, Response, texts, prefix: "");
            return await ShowAsync(alert, Response.StatusCode);
        }
    }

    public async Task<IActionResult> OnPostRemoveAsync(string id)
    {
        try
        {
            await passkeys.RemoveAsync(UserId, id, HttpContext.RequestAborted);
            await RenewSessionAsync();
            return await ShowAsync(new ConsoleAlert(texts["passkeys.removed"], [], IsError: false));
        }
        catch (RuleViolation violation)
        {
            var alert = ModelState.Show(violation, Response, texts, prefix: "");
            return await ShowAsync(alert, Response.StatusCode);
        }
    }

    private string UserId => User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No user id in the session.");

    /// <summary>The factor change ended the user's other sessions (security stamp); this one goes on with the new stamp.</summary>
    private async Task RenewSessionAsync()
    {
        if (await signIn.UserManager.FindByIdAsync(UserId) is { } user)
        {
            await signIn.RenewSessionAsync(user, User);
        }
    }

    private async Task<IActionResult> ShowAsync(ConsoleAlert alert, int status = StatusCodes.Status200OK)
    {
        Alert = alert;
        Response.StatusCode = status;
        Passkeys = await passkeys.ListAsync(UserId, HttpContext.RequestAborted);
        return Page();
    }

    public sealed class NewPasskey
    {
        public string? Name { get; set; }

        /// <summary>The authenticator's answer (PublicKeyCredential JSON), filled in by passkeys.js.</summary>
        public string? Credential { get; set; }
    }
}

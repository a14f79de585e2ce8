using System.Security.Claims;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Account;

/// <summary>The applications a user has allowed (remembered consent), each with a way to withdraw it.</summary>
[Authorize]
public sealed class ApplicationsModel(
    IOpenIddictAuthorizationManager authorizations, IOpenIddictApplicationManager applications, IOpenIddictTokenManager tokens, ThemeMessages texts) : PageModel
{
    public IReadOnlyList<ConsentedApplication> Consents { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task OnGetAsync() => Consents = await ListAsync(HttpContext.RequestAborted);

    /// <summary>Withdrawing revokes the authorization and every token issued under it.</summary>
    public async Task<IActionResult> OnPostWithdrawAsync(string authorizationId)
    {
        var cancellationToken = HttpContext.RequestAborted;
        var authorization = string.IsNullOrEmpty(authorizationId) ? null : await authorizations.FindByIdAsync(authorizationId, cancellationToken);
        // Only the user's own consents: an id from someone else's list is treated as unknown.
        if (authorization is null || await authorizations.GetSubjectAsync(authorization, cancellationToken) != UserId)
        {
            return NotFound();
        }

        await authorizations.TryRevokeAsync(authorization, cancellationToken);
        await tokens.RevokeByAuthorizationIdAsync(authorizationId, cancellationToken);
        Message = texts["consents.withdrawn"];
        Consents = await ListAsync(cancellationToken);
        return Page();
    }

    private string UserId => User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No user id in the session.");

    private async Task<IReadOnlyList<ConsentedApplication>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<ConsentedApplication>();
        await foreach (var authorization in authorizations.FindBySubjectAsync(UserId, cancellationToken))
        {
            if (await authorizations.GetTypeAsync(authorization, cancellationToken) != AuthorizationTypes.Permanent
                || !await authorizations.HasStatusAsync(authorization, Statuses.Valid, cancellationToken))
            {
                continue;
            }

            var applicationId = await authorizations.GetApplicationIdAsync(authorization, cancellationToken);
            var application = applicationId is null ? null : await applications.FindByIdAsync(applicationId, cancellationToken);
            var name = application is null ? texts["consents.unknown"].Value : await applications.GetLocalizedDisplayNameAsync(application, cancellationToken)
                ?? await applications.GetClientIdAsync(application, cancellationToken) ?? "";
            list.Add(new ConsentedApplication(
                (await authorizations.GetIdAsync(authorization, cancellationToken))!,
                name,
                ScopeDescriptionsOf(await authorizations.GetScopesAsync(authorization, cancellationToken))));
        }

        return list;
    }

    private IReadOnlyList<string> ScopeDescriptionsOf(IEnumerable<string> scopes) =>
        [.. ScopeDescription.Describe(scopes, texts).Select(s => s.Text)];
}

public sealed record ConsentedApplication(string AuthorizationId, string Name, IReadOnlyList<string> Scopes);

using IdentityHub.Core;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// Deleting the application, after a confirmation step that says what goes with it (or why the Core would refuse); the
/// notice afterwards names it. Also the one place that picks the page's confirmation step (the OIDC and SAML sections build theirs).
/// </summary>
public sealed partial class DetailModel
{
    /// <summary>Deletes the application (its permissions, OIDC client and SAML SP go with it); the Core refuses while roles, rules or connectors are attached.</summary>
    public async Task<IActionResult> OnPostDeleteAsync(
        Guid id, long? revision, [FromServices] Consequences consequences, CancellationToken cancellationToken)
    {
        var name = (await consequences.OfDeletingApplicationAsync(id, cancellationToken))?.Name ?? id.ToString();
        try
        {
            await applications.DeleteAsync(id, revision, cancellationToken);
            return Did("/admin/applications", "admin.done.applicationDeleted", name);
        }
        catch (RuleViolation violation)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>The confirmation step the page was asked for (<c>?confirm=delete</c>, <c>rotateSecret</c>, <c>deleteOidc</c> or <c>removeSaml</c>).</summary>
    private async Task ConfirmAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!CanWrite)
        {
            return;
        }

        var texts = ThemeTexts;
        if (Confirming is ConfirmRotateSecret or ConfirmDeleteOidc)
        {
            Confirm = await OidcConfirmationAsync(id, Confirming, cancellationToken);
        }
        else if (Confirming == ConfirmRemoveSaml)
        {
            Confirm = SamlRemoval(id);
        }
        else if (Confirming == "delete"
            && await HttpContext.RequestServices.GetRequiredService<Consequences>().OfDeletingApplicationAsync(id, cancellationToken) is { } impact)
        {
            var refusal = await applications.RefusalToDeleteAsync(id, cancellationToken);
            var goes = new List<string> { texts["admin.confirm.application.permissions", impact.Permissions] };
            if (impact.OidcClientId is { } clientId)
            {
                goes.Add(texts["admin.confirm.application.oidc", clientId]);
            }

            if (impact.HasSaml)
            {
                goes.Add(texts["admin.confirm.application.saml"]);
            }

            goes.Add(texts["admin.confirm.application.gone"]);
            Confirm = new Confirmation(
                "delete-application", texts["admin.confirm.application.title", impact.Name], goes, $"/admin/applications/{id}?handler=delete",
                new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                texts["admin.confirm.application.yes"], $"/admin/applications/{id}")
            {
                Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
            };
        }
    }
}

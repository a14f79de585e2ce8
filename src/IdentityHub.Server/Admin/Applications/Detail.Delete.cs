using IdentityHub.Core;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// Deleting from the application page: a permission, or the application itself, each after a confirmation step that says
/// what goes with it (or why the Core would refuse); the notice afterwards names what was deleted.
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

    public async Task<IActionResult> OnPostDeletePermissionAsync(Guid id, Guid permissionId, long? revision, CancellationToken cancellationToken)
    {
        var name = (await permissionQueries.GetAsync(id, permissionId, cancellationToken))?.Name ?? permissionId.ToString();
        try
        {
            await permissions.DeleteAsync(permissionId, revision, cancellationToken);
            return Did($"/admin/applications/{id}", "admin.done.permissionDeleted", name);
        }
        catch (RuleViolation violation)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>The confirmation step the page was asked for (<c>?confirm=delete</c> or <c>?confirm=deletePermission&amp;permission=...</c>).</summary>
    private async Task ConfirmAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!CanWrite)
        {
            return;
        }

        var texts = ThemeTexts;
        if (Confirming == "delete"
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
        else if (Confirming == "deletePermission" && Guid.TryParse(Request.Query["permission"], out var permissionId)
            && PermissionList.FirstOrDefault(p => p.Id == permissionId) is { } permission)
        {
            var refusal = await permissions.RefusalToDeleteAsync(permission.Id, cancellationToken);
            Confirm = new Confirmation(
                "delete-permission", texts["admin.confirm.permission.title", permission.Name, Application!.Name],
                [texts["admin.confirm.permission.gone"]],
                $"/admin/applications/{id}?handler=deletePermission",
                new Dictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["permissionId"] = permission.Id.ToString(),
                    ["revision"] = Revision.Of(permission.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                texts["admin.confirm.permission.yes"], $"/admin/applications/{id}")
            {
                Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
            };
        }
    }
}

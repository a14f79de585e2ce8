using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Admin.Roles;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// One permission of an application: its name, description and parameters with their default values (an amount
/// limit), edited with the page's revision as If-Match, the roles that bundle it, and its removal after a confirmation;
/// every write through <see cref="Permissions"/>.
/// </summary>
public sealed class PermissionModel(
    Permissions permissions, PermissionQueries queries, ApplicationQueries applications, RoleQueries roles, Consequences consequences)
    : ConsolePageModel
{
    /// <summary>What <c>?confirm=</c> asks for on this page: the permission's deletion.</summary>
    public const string ConfirmDelete = "delete";

    public Application? Application { get; private set; }

    public Permission? Permission { get; private set; }

    /// <summary>The roles that bundle this permission, with their own parameter values.</summary>
    public IReadOnlyList<Role> BundlingRoles { get; private set; } = [];

    [BindProperty]
    public PermissionEditForm Input { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(Guid id, Guid permissionId, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, permissionId, cancellationToken))
        {
            return NotFound();
        }

        Input = PermissionEditForm.Of(Permission!);
        if (CanWrite && Confirming == ConfirmDelete && await consequences.OfDeletingPermissionAsync(permissionId, cancellationToken) is { } impact)
        {
            Confirm = await DeletingAsync(impact, cancellationToken);
        }

        return Page();
    }

    /// <summary>Saves the permission; refused, the form keeps what was typed.</summary>
    public async Task<IActionResult> OnPostAsync(Guid id, Guid permissionId, CancellationToken cancellationToken)
    {
        if (!await queries.ExistsAsync(id, permissionId, cancellationToken))
        {
            return NotFound();
        }

        try
        {
            var saved = await permissions.UpdateAsync(
                permissionId, Input.ToInput(), Input.Revision, cancellationToken);
            return Done(saved.Name, $"/admin/applications/{id}#permissions-heading");
        }
        catch (RuleViolation violation)
        {
            Refused(StaleExplained(violation, "admin.permissions.stale"));
            return await LoadAsync(id, permissionId, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>
    /// Deletes the permission after the confirmation step, with the revision that step read, and names it on the application's
    /// page (the list of its permissions); a refusal (part of a role, of a rule) says why on this page.
    /// </summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid id, Guid permissionId, long? revision, CancellationToken cancellationToken)
    {
        if (await queries.GetAsync(id, permissionId, cancellationToken) is not { } permission)
        {
            return NotFound();
        }

        try
        {
            await permissions.DeleteAsync(permissionId, revision, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            Refused(StaleExplained(violation, "admin.permissions.stale"), "");
            if (!await LoadAsync(id, permissionId, cancellationToken))
            {
                return NotFound();
            }

            Input = PermissionEditForm.Of(Permission!);
            return Page();
        }

        return Did($"/admin/applications/{id}#permissions-heading", "admin.done.permissionDeleted", permission.Name);
    }

    private ThemeMessages Texts => HttpContext.RequestServices.GetRequiredService<ThemeMessages>();

    /// <summary>The confirmation step: the roles bundling the permission and the people holding it through them, and the Core's refusal when it would refuse.</summary>
    private async Task<Confirmation> DeletingAsync(PermissionImpact impact, CancellationToken cancellationToken)
    {
        var texts = Texts;
        var refusal = await permissions.RefusalToDeleteAsync(impact.Id, cancellationToken);
        var page = $"/admin/applications/{Application!.Id}/permissions/{impact.Id}";
        return new Confirmation(
            "delete-permission", texts["admin.confirm.permission.title", impact.Name, Application.Name],
            [
                impact.Roles == 0
                    ? texts["admin.confirm.permission.noRoles"]
                    : texts["admin.confirm.permission.roles", impact.Roles, string.Join(", ", BundlingRoles.Select(RoleNames.Text)), impact.Holders],
                texts["admin.confirm.permission.gone"],
            ],
            $"{page}?handler=delete",
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            texts["admin.confirm.permission.yes"], page)
        {
            Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
        };
    }

    /// <summary>A stale revision told in the page's own words (what happened, that nothing was saved, what to do); other refusals as the Core gives them.</summary>
    private RuleViolation StaleExplained(RuleViolation violation, string key) =>
        violation.Kind == ViolationKind.Stale ? new RuleViolation(violation.Kind, Texts[key].Value, violation.Errors, violation.Codes) : violation;

    private async Task<bool> LoadAsync(Guid id, Guid permissionId, CancellationToken cancellationToken)
    {
        Application = await applications.GetAsync(id, cancellationToken);
        Permission = await queries.GetAsync(id, permissionId, cancellationToken);
        if (Application is null || Permission is null)
        {
            return false;
        }

        BundlingRoles = await roles.ListAsync(new RoleFilter(PermissionId: permissionId), cancellationToken);
        return true;
    }
}

/// <summary>The "edit permission" form: what the admin API's PUT takes, parameters as "key=value" lines, and the revision the page was read at.</summary>
public sealed class PermissionEditForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>"key=value" lines, for example <c>amountLimit=5000</c>: the default values a role may override.</summary>
    public string? Parameters { get; set; }

    public long? Revision { get; set; }

    // An empty description field means no description, as the API's null does.
    public PermissionInput ToInput() =>
        new(Name, string.IsNullOrWhiteSpace(Description) ? null : Description, ConsoleForms.ParseParameters(Parameters));

    public static PermissionEditForm Of(Permission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return new PermissionEditForm
        {
            Name = permission.Name,
            Description = permission.Description,
            Parameters = string.Join('\n', permission.Parameters.Select(p => $"{p.Key}={p.Value}")),
            Revision = IdentityHub.Core.Revision.Of(permission.UpdatedAt),
        };
    }
}

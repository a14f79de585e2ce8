using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>
/// One role: its key, display name, description, whether HR administrators may assign it, and its permissions with the
/// role's own parameter values (an amount limit above the permission's default), edited with the page's revision as
/// If-Match; its removal after a confirmation. Every write through <see cref="IdentityHub.Core.Access.Roles"/>.
/// </summary>
public sealed class DetailModel(
    IdentityHub.Core.Access.Roles roles, RoleQueries queries, PermissionQueries permissionQueries, ApplicationQueries applications, Consequences consequences)
    : ConsolePageModel
{
    /// <summary>What <c>?confirm=</c> asks for on this page: the role's deletion.</summary>
    public const string ConfirmDelete = "delete";

    public Role? Role { get; private set; }

    public Application? Application { get; private set; }

    /// <summary>The permissions the role may bundle: its application's, or every application's for a global role.</summary>
    public IReadOnlyList<Permission> Candidates { get; private set; } = [];

    [BindProperty]
    public RoleEditForm Input { get; set; } = new();

    /// <summary>Where the role is listed: its application's page, or the roles page for a global role.</summary>
    public string ListPage => Role?.ApplicationId is { } application ? $"/admin/applications/{application}" : "/admin/roles";

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Input = RoleEditForm.Of(Role!);
        if (CanWrite && Confirming == ConfirmDelete && await consequences.OfDeletingRoleAsync(id, cancellationToken) is { } impact)
        {
            Confirm = await DeletingAsync(impact, cancellationToken);
        }

        return Page();
    }

    /// <summary>Saves the role; refused, the form keeps what was typed (every box and value as posted).</summary>
    public async Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        try
        {
            var saved = await roles.UpdateAsync(id, Input.ToInput(Role!.ApplicationId), Input.Revision, cancellationToken);
            return Done(RoleNames.Text(saved), $"/admin/roles/{id}");
        }
        catch (RuleViolation violation)
        {
            Refused(StaleExplained(violation));
            return Page();
        }
    }

    /// <summary>
    /// Deletes the role after the confirmation step, with the revision that step read, and names it on the list the role was
    /// on (its application's page, or the roles page); a refusal (assignments, a separation-of-duty rule) says why on this page.
    /// </summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid id, long? revision, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        try
        {
            await roles.DeleteAsync(id, revision, cancellationToken);
        }
        catch (RuleViolation violation)
        {
            Refused(StaleExplained(violation), "");
            Input = RoleEditForm.Of(Role!);
            return Page();
        }

        return Did(ListPage, "admin.done.roleDeleted", RoleNames.Text(Role!));
    }

    /// <summary>The row of the form that belongs to <paramref name="permission"/>, as posted or as stored.</summary>
    public RolePermissionRow RowOf(Permission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return Input.Permissions.Find(p => p.PermissionId == permission.Id) ?? new RolePermissionRow { PermissionId = permission.Id };
    }

    private ThemeMessages Texts => HttpContext.RequestServices.GetRequiredService<ThemeMessages>();

    /// <summary>The confirmation step: what the role bundles, who holds it, and the Core's refusal when it would refuse.</summary>
    private async Task<Confirmation> DeletingAsync(RoleImpact impact, CancellationToken cancellationToken)
    {
        var texts = Texts;
        var role = Role!;
        var refusal = await roles.RefusalToDeleteAsync(role.Id, cancellationToken);
        var permissions = role.Permissions.Select(p => p.Permission?.Name).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var page = $"/admin/roles/{role.Id}";
        return new Confirmation(
            "delete-role", texts["admin.confirm.role.title", RoleNames.Text(role), Application?.Name ?? texts["admin.roles.global"]],
            [
                permissions.Count == 0 ? texts["admin.confirm.role.noPermissions"] : texts["admin.confirm.role.permissions", string.Join(", ", permissions)],
                impact.Assignments == 0 ? texts["admin.confirm.role.noAssignments"] : texts["admin.confirm.role.assignments", impact.Assignments, impact.ActiveAssignments],
                texts["admin.confirm.role.gone"],
            ],
            $"{page}?handler=delete",
            new Dictionary<string, string?>(StringComparer.Ordinal) { ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            texts["admin.confirm.role.yes"], page)
        {
            Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
        };
    }

    private RuleViolation StaleExplained(RuleViolation violation) =>
        violation.Kind == ViolationKind.Stale ? new RuleViolation(violation.Kind, Texts["admin.roles.stale"].Value, violation.Errors, violation.Codes) : violation;

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Role = await queries.GetAsync(id, cancellationToken);
        if (Role is null)
        {
            return false;
        }

        Application = Role.ApplicationId is { } applicationId ? await applications.GetAsync(applicationId, cancellationToken) : null;
        Candidates = Role.ApplicationId is { } owner
            ? await permissionQueries.ListAsync(owner, cancellationToken)
            : await permissionQueries.AllAsync(cancellationToken);
        return true;
    }
}

/// <summary>
/// The "edit role" form: what the admin API's PUT takes. One row per permission the role may bundle: ticked to include
/// it, with the role's value for each of the permission's parameters (empty: the permission's default).
/// </summary>
public sealed class RoleEditForm
{
    public string? Name { get; set; }

    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    public bool Delegable { get; set; }

    public List<RolePermissionRow> Permissions { get; set; } = [];

    public long? Revision { get; set; }

    public static RoleEditForm Of(Role role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return new RoleEditForm
        {
            Name = role.Name,
            DisplayName = role.DisplayName,
            Description = role.Description,
            Delegable = role.Delegable,
            Permissions = [.. role.Permissions.Select(p => new RolePermissionRow
            {
                PermissionId = p.PermissionId,
                Included = true,
                Parameters = p.Parameters.ToDictionary(e => e.Key, e => (string?)e.Value, StringComparer.Ordinal),
            })],
            Revision = IdentityHub.Core.Revision.Of(role.UpdatedAt),
        };
    }

    /// <summary>The ticked rows, each with the values typed (an empty value keeps the permission's default).</summary>
    public RoleInput ToInput(Guid? applicationId) => new(
        applicationId,
        Name,
        string.IsNullOrWhiteSpace(Description) ? null : Description,
        Delegable,
        [.. Permissions.Where(p => p.Included).Select(p => new RolePermissionInput(
            p.PermissionId,
            p.Parameters.Where(e => !string.IsNullOrWhiteSpace(e.Value)).ToDictionary(e => e.Key, e => e.Value!.Trim(), StringComparer.Ordinal)))],
        DisplayName);
}

public sealed class RolePermissionRow
{
    public Guid PermissionId { get; set; }

    public bool Included { get; set; }

    /// <summary>The role's value per parameter name; empty or absent: the permission's default.</summary>
    public Dictionary<string, string?> Parameters { get; set; } = new(StringComparer.Ordinal);
}

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
public sealed class DetailModel(IdentityHub.Core.Access.Roles roles, RoleQueries queries, PermissionQueries permissionQueries, ApplicationQueries applications)
    : ConsolePageModel
{
    public const string ConfirmDeleteQuery = "delete";

    public Role? Role { get; private set; }

    public Application? Application { get; private set; }

    /// <summary>The permissions the role may bundle: its application's, or every application's for a global role.</summary>
    public IReadOnlyList<Permission> Candidates { get; private set; } = [];

    [BindProperty]
    public RoleEditForm Input { get; set; } = new();

    /// <summary>Where the role is listed: its application's page, or the roles page for a global role.</summary>
    public string ListPage => Role?.ApplicationId is { } application ? $"/admin/applications/{application}" : "/admin/roles";

    /// <summary>The page asks "delete it?" before the removal is posted (a link, so it works without JavaScript).</summary>
    public bool ConfirmingDeletion => Request.Query[ConfirmDeleteQuery] == "confirm" && Role is not null;

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Input = RoleEditForm.Of(Role!);
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

    /// <summary>Deletes the role after the confirmation and says so; a refusal (assignments, a separation-of-duty rule) says why on this page.</summary>
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

        Notice = Texts["admin.roles.deleted", RoleNames.Text(Role!)].Value;
        return LocalRedirect(ListPage);
    }

    /// <summary>The row of the form that belongs to <paramref name="permission"/>, as posted or as stored.</summary>
    public RolePermissionRow RowOf(Permission permission)
    {
        ArgumentNullException.ThrowIfNull(permission);
        return Input.Permissions.Find(p => p.PermissionId == permission.Id) ?? new RolePermissionRow { PermissionId = permission.Id };
    }

    private ThemeMessages Texts => HttpContext.RequestServices.GetRequiredService<ThemeMessages>();

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

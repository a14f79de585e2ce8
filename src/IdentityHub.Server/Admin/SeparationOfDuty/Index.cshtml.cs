using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.SeparationOfDuty;

/// <summary>Separation-of-duty rules (pairs of roles or permissions no one may hold together) and who breaks one today.</summary>
public sealed class IndexModel(IdentityHubDbContext db, IdentityHub.Core.Access.SeparationOfDuty separation) : ConsolePageModel
{
    public IReadOnlyList<SeparationOfDutyRule> Rules { get; private set; } = [];

    public IReadOnlyList<SodViolation> Violations { get; private set; } = [];

    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    public IReadOnlyList<Permission> PermissionList { get; private set; } = [];

    [BindProperty]
    public SodForm Input { get; set; } = new();

    public async Task OnGetAsync(Guid? id, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        if (CanWrite && Confirming == "delete" && Rules.FirstOrDefault(r => r.Id == id) is { } rule)
        {
            Confirm = new Confirmation(
                "delete-sod-rule", ThemeTexts["admin.confirm.sod.title", rule.Name],
                [
                    ThemeTexts["admin.confirm.sod.allows", Describe(rule.FirstRoleId, rule.FirstPermissionId), Describe(rule.SecondRoleId, rule.SecondPermissionId)],
                    ThemeTexts["admin.confirm.sod.gone"],
                ],
                "/admin/separation-of-duty?handler=delete",
                new Dictionary<string, string?>(StringComparer.Ordinal) { ["ruleId"] = rule.Id.ToString() },
                ThemeTexts["admin.confirm.sod.yes"], "/admin/separation-of-duty");
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Rules = await db.SeparationOfDutyRules.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken);
        Violations = await separation.ViolationsAsync(cancellationToken);
        RoleList = await db.AccessRoles.AsNoTracking().Include(r => r.Application).ToListAsync(cancellationToken);
        RoleList = [.. RoleList.OrderBy(r => r.Application?.Name).ThenBy(r => r.Name)];
        PermissionList = await db.Permissions.AsNoTracking().Include(p => p.Application).ToListAsync(cancellationToken);
        PermissionList = [.. PermissionList.OrderBy(p => p.Application?.Name).ThenBy(p => p.Name)];
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var byRoles = Input.Kind != "permissions";
        try
        {
            await separation.CreateRuleAsync(
                new SodRuleInput(Input.Name, Input.Description,
                    byRoles ? Input.FirstRoleId : null, byRoles ? Input.SecondRoleId : null,
                    byRoles ? null : Input.FirstPermissionId, byRoles ? null : Input.SecondPermissionId),
                cancellationToken);
            return Done(null, "/admin/separation-of-duty");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid ruleId, CancellationToken cancellationToken)
    {
        try
        {
            var name = await db.SeparationOfDutyRules.AsNoTracking().Where(r => r.Id == ruleId).Select(r => r.Name).SingleOrDefaultAsync(cancellationToken);
            await separation.DeleteRuleAsync(ruleId, cancellationToken);
            return Did("/admin/separation-of-duty", "admin.done.sodRuleDeleted", name ?? ruleId.ToString());
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    /// <summary>"expense-approver (Expenses)" (with its display name before the key) or "expense.approve (Expenses)" for one side of a rule.</summary>
    public string Describe(Guid? roleId, Guid? permissionId)
    {
        if (roleId is { } r && RoleList.FirstOrDefault(x => x.Id == r) is { } role)
        {
            return $"{Roles.RoleNames.Text(role)} ({role.Application?.Name ?? "global"})";
        }

        return permissionId is { } p && PermissionList.FirstOrDefault(x => x.Id == p) is { } permission
            ? $"{permission.Name} ({permission.Application?.Name})"
            : "?";
    }
}

public sealed class SodForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>"roles" or "permissions": which pair of selects counts.</summary>
    public string Kind { get; set; } = "roles";

    public Guid? FirstRoleId { get; set; }

    public Guid? SecondRoleId { get; set; }

    public Guid? FirstPermissionId { get; set; }

    public Guid? SecondPermissionId { get; set; }
}

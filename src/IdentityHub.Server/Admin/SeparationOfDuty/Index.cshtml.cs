using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.SeparationOfDuty;

/// <summary>Separation-of-duty rules (pairs of roles or permissions no one may hold together) and who breaks one today.</summary>
public sealed class IndexModel(
    SodRuleQueries rules, RoleQueries roles, PermissionQueries permissions, IdentityHub.Core.Access.SeparationOfDuty separation) : ConsolePageModel
{
    public IReadOnlyList<SodRuleView> Rules { get; private set; } = [];

    public IReadOnlyList<SodViolation> Violations { get; private set; } = [];

    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    public IReadOnlyList<Permission> PermissionList { get; private set; } = [];

    [BindProperty]
    public SodForm Input { get; set; } = new();

    public async Task OnGetAsync(Guid? id, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        if (CanWrite && Confirming == "delete" && Rules.FirstOrDefault(r => r.Rule.Id == id) is { } rule)
        {
            Confirm = new Confirmation(
                "delete-sod-rule", ThemeTexts["admin.confirm.sod.title", rule.Rule.Name],
                [
                    ThemeTexts["admin.confirm.sod.allows", DescribeSide(rule.First), DescribeSide(rule.Second)],
                    ThemeTexts["admin.confirm.sod.gone"],
                ],
                "/admin/separation-of-duty?handler=delete",
                new Dictionary<string, string?>(StringComparer.Ordinal) { ["ruleId"] = rule.Rule.Id.ToString() },
                ThemeTexts["admin.confirm.sod.yes"], "/admin/separation-of-duty");
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Rules = await rules.ListAsync(cancellationToken);
        Violations = await separation.ViolationsAsync(cancellationToken);
        RoleList = await roles.ListAsync(new RoleFilter(), cancellationToken);
        PermissionList = await permissions.AllAsync(cancellationToken);
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
            var name = (await rules.ListAsync(cancellationToken)).FirstOrDefault(r => r.Rule.Id == ruleId)?.Rule.Name;
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

    /// <summary>A violation in the reader's language: the rule, and both assignments by role, scope and dates.</summary>
    public string Explain(SodViolation violation)
    {
        ArgumentNullException.ThrowIfNull(violation);
        return ConsoleForms.Localize(violation.Code, violation.Message, HttpContext.RequestServices.GetRequiredService<ThemeMessages>());
    }

    /// <summary>"expense-approver (Expenses)" (with its display name before the key) or "expense.approve (Expenses)" for one side of a rule.</summary>
    /// <summary>A role or permission as the rule form lists it: its name and its application.</summary>
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

    /// <summary>One side of a rule as the confirmation names it: "Finance approver (Expenses)".</summary>
    private string DescribeSide(SodRuleSide? side) =>
        side is null ? "?" : $"{side.Name} ({side.ApplicationName ?? ThemeTexts["admin.roles.global"].Value})";
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

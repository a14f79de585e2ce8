using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Admin.Applications;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>Every role, global and per application; global roles are created here, application roles on the application's page.</summary>
public sealed class IndexModel(RoleQueries queries, IdentityHub.Core.Access.Roles roles) : ConsolePageModel
{
    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    [BindProperty]
    public RoleForm Input { get; set; } = new();

    public async Task OnGetAsync(Guid? id, Guid? returnTo, CancellationToken cancellationToken)
    {
        RoleList = await queries.ListAsync(new RoleFilter(), cancellationToken);
        if (CanWrite && Confirming == "delete" && RoleList.FirstOrDefault(r => r.Id == id) is { } role)
        {
            Confirm = await DeletingAsync(role, returnTo, cancellationToken);
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            await roles.CreateAsync(new RoleInput(ApplicationId: null, Input.Name, Input.Description, Input.Delegable, [], Input.DisplayName), cancellationToken);
            return Done(null, "/admin/roles");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            RoleList = await queries.ListAsync(new RoleFilter(), cancellationToken);
            return Page();
        }
    }

    /// <summary>Deletes after the confirmation step, with the revision that step read; back to the roles or the role's application.</summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid roleId, long? revision, Guid? returnTo, CancellationToken cancellationToken)
    {
        var back = Back(returnTo);
        var role = await queries.GetAsync(roleId, cancellationToken);
        try
        {
            await roles.DeleteAsync(roleId, revision, cancellationToken);
            return Did(back, "admin.done.roleDeleted", role is null ? roleId.ToString() : RoleNames.Text(role));
        }
        catch (RuleViolation violation)
        {
            Notice = ConsoleForms.Localize(violation, violation.Title, ThemeTexts);
            return LocalRedirect(back);
        }
    }

    private static string Back(Guid? returnTo) => returnTo is { } applicationId ? $"/admin/applications/{applicationId}" : "/admin/roles";

    private async Task<Confirmation> DeletingAsync(Role role, Guid? returnTo, CancellationToken cancellationToken)
    {
        var texts = ThemeTexts;
        var refusal = await roles.RefusalToDeleteAsync(role.Id, cancellationToken);
        var permissions = role.Permissions.Select(p => p.Permission?.Name).OfType<string>().ToList();
        return new Confirmation(
            "delete-role", texts["admin.confirm.role.title", RoleNames.Text(role), role.Application?.Name ?? texts["admin.roles.global"]],
            [
                permissions.Count == 0 ? texts["admin.confirm.role.noPermissions"] : texts["admin.confirm.role.permissions", string.Join(", ", permissions)],
                texts["admin.confirm.role.gone"],
            ],
            "/admin/roles?handler=delete",
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["roleId"] = role.Id.ToString(),
                ["revision"] = IdentityHub.Core.Revision.Of(role.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["returnTo"] = returnTo?.ToString(),
            },
            texts["admin.confirm.role.yes"], Back(returnTo))
        {
            Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
        };
    }
}

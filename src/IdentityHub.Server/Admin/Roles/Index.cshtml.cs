using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Server.Admin.Applications;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>Every role, global and per application; global roles are created here, application roles on the application's page.</summary>
public sealed class IndexModel(IdentityHubDbContext db, IdentityHub.Core.Access.Roles roles) : ConsolePageModel
{
    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    [BindProperty]
    public RoleForm Input { get; set; } = new();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        RoleList = await db.AccessRoles.AsNoTracking().Include(r => r.Application).Include(r => r.Permissions).ThenInclude(p => p.Permission)
            .ToListAsync(cancellationToken);
        RoleList = [.. RoleList.OrderBy(r => r.Application?.Name).ThenBy(r => r.Name)];
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            await roles.CreateAsync(new RoleInput(ApplicationId: null, Input.Name, Input.Description, Input.Delegable, []), cancellationToken);
            return Done(null, "/admin/roles");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await OnGetAsync(cancellationToken);
            return Page();
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid roleId, long? revision, Guid? returnTo, CancellationToken cancellationToken)
    {
        var back = returnTo is { } applicationId ? $"/admin/applications/{applicationId}" : "/admin/roles";
        try
        {
            await roles.DeleteAsync(roleId, revision, cancellationToken);
            return Done(null, back);
        }
        catch (RuleViolation violation)
        {
            Notice = violation.Title;
            return LocalRedirect(back);
        }
    }
}

using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Admin.Applications;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>Every role, global and per application; global roles are created here, application roles on the application's page; each is edited and deleted on its own page.</summary>
public sealed class IndexModel(RoleQueries queries, IdentityHub.Core.Access.Roles roles) : ConsolePageModel
{
    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    [BindProperty]
    public RoleForm Input { get; set; } = new();

    public async Task OnGetAsync(CancellationToken cancellationToken) => RoleList = await queries.ListAsync(new RoleFilter(), cancellationToken);

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
}

using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>
/// Grants a role: user × role × scope (a department subtree or everywhere) × validity × reason. Separation of
/// duty and delegation are the Core's checks; a refusal shows its message as it is.
/// </summary>
public sealed class NewModel(UserQueries users, RoleQueries roles, DepartmentQueries departments, RoleAssignments assignments) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)]
    public AssignmentForm Input { get; set; } = new();

    public IReadOnlyList<UserAccount> Users { get; private set; } = [];

    public IReadOnlyList<Role> Roles { get; private set; } = [];

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        ModelState.Clear();
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            var granted = await assignments.GrantAsync(
                new AssignmentInput(Input.UserId, Input.RoleId, Input.DepartmentId, ConsoleForms.StartOfDay(Input.ValidFrom), ConsoleForms.EndOfDay(Input.ValidUntil), Input.Reason),
                cancellationToken);
            return Done(null, $"/admin/users/{granted.UserId}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        Users = await users.AssignableAsync(cancellationToken);
        Roles = await roles.ListAsync(new RoleFilter(), cancellationToken);
        Tree = await departments.TreeAsync(cancellationToken);
    }
}

public sealed class AssignmentForm
{
    public string? UserId { get; set; }

    public Guid? RoleId { get; set; }

    /// <summary>Empty: everywhere.</summary>
    public Guid? DepartmentId { get; set; }

    public DateOnly? ValidFrom { get; set; }

    /// <summary>The last day the assignment counts (it ends at the following midnight, UTC).</summary>
    public DateOnly? ValidUntil { get; set; }

    public string? Reason { get; set; }
}

using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Users;

/// <summary>Creates a user (<c>/admin/users/edit</c>, with an optional first password) or edits one.</summary>
public sealed class EditModel(UserQueries queries, DepartmentQueries departments, UserDirectory directory) : ConsolePageModel
{
    [BindProperty]
    public UserForm Input { get; set; } = new();

    [BindProperty]
    public long? Revision { get; set; }

    public string? Id { get; private set; }

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string? id, Guid? department, CancellationToken cancellationToken)
    {
        Id = id;
        Tree = await departments.TreeAsync(cancellationToken);
        if (id is null)
        {
            Input.DepartmentId = department;
            return Page();
        }

        if ((await queries.GetAsync(id, cancellationToken))?.Account is not { } user)
        {
            return NotFound();
        }

        Input = new UserForm
        {
            UserName = user.UserName, DisplayName = user.DisplayName, Email = user.Email, PhoneNumber = user.PhoneNumber,
            EmployeeNumber = user.EmployeeNumber, DepartmentId = user.DepartmentId,
        };
        Revision = IdentityHub.Core.Revision.Of(user.UpdatedAt);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? id, CancellationToken cancellationToken)
    {
        var input = new UserInput(Input.UserName, Input.DisplayName, Input.Email, Input.PhoneNumber, Input.EmployeeNumber, Input.DepartmentId, ManagerId: null);
        try
        {
            if (id is null)
            {
                var created = await directory.CreateAsync(input, string.IsNullOrEmpty(Input.Password) ? null : Input.Password, cancellationToken);
                return Done(created.UserName, $"/admin/users/{created.Id}");
            }

            // The manager is kept as it is: the console does not edit it yet.
            var current = (await queries.GetAsync(id, cancellationToken))?.Account.ManagerId;
            var saved = await directory.UpdateAsync(id, input with { ManagerId = current }, Revision, cancellationToken);
            return Done(saved.UserName, $"/admin/users/{saved.Id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            Id = id;
            Tree = await departments.TreeAsync(cancellationToken);
            return Page();
        }
    }
}

public sealed class UserForm
{
    public string? UserName { get; set; }

    public string? DisplayName { get; set; }

    public string? Email { get; set; }

    public string? PhoneNumber { get; set; }

    public string? EmployeeNumber { get; set; }

    public Guid? DepartmentId { get; set; }

    /// <summary>Only when creating; left empty, the user gets no password (another sign-in method, or a reset).</summary>
    public string? Password { get; set; }
}

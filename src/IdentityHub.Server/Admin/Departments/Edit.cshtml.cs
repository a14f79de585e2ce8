using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>One department: rename it, or move it (and its subtree) under another parent.</summary>
public sealed class EditModel(DepartmentQueries queries, IdentityHub.Core.Directory.Departments departments) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    [BindProperty]
    public long? Revision { get; set; }

    public Department? Department { get; private set; }

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Input = new DepartmentForm { Code = Department!.Code, Name = Department.Name, ParentId = Department.ParentId };
        Revision = IdentityHub.Core.Revision.Of(Department.UpdatedAt);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            var saved = await departments.UpdateAsync(id, new DepartmentInput(Input.Code, Input.Name, Input.ParentId), Revision, cancellationToken);
            return Done(saved.Name, "/admin/departments");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Department = await queries.GetAsync(id, cancellationToken);
        Tree = await queries.TreeAsync(cancellationToken);
        return Department is not null;
    }
}

using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>The department tree: create, rename, move under another parent, delete. Every rule is the Core's.</summary>
public sealed class IndexModel(DepartmentQueries queries, IdentityHub.Core.Directory.Departments departments) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Tree = await queries.TreeAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        try
        {
            var created = await departments.CreateAsync(new DepartmentInput(Input.Code, Input.Name, Input.ParentId), cancellationToken);
            return Done($"{created.Name} ({created.Code})", "/admin/departments");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await OnGetAsync(cancellationToken);
            return Page();
        }
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, long? revision, CancellationToken cancellationToken)
    {
        try
        {
            await departments.DeleteAsync(id, revision, cancellationToken);
            return Done(null, "/admin/departments");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await OnGetAsync(cancellationToken);
            return Page();
        }
    }
}

public sealed class DepartmentForm
{
    public string? Code { get; set; }

    public string? Name { get; set; }

    public Guid? ParentId { get; set; }
}

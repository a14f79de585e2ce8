using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>The department tree: create, rename, move under another parent, delete. Every rule is the Core's.</summary>
public sealed class IndexModel(IdentityHubDbContext db, IdentityHub.Core.Directory.Departments departments) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    public IReadOnlyList<DepartmentNode> Tree { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Tree = await DepartmentNode.TreeAsync(db, cancellationToken);

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

/// <summary>A department with its depth in the tree and how many people it holds, for display.</summary>
public sealed record DepartmentNode(Department Department, int Depth, int Users)
{
    public long Revision => IdentityHub.Core.Revision.Of(Department.UpdatedAt);

    /// <summary>The whole tree in depth-first order (the materialized path sorts parents before children).</summary>
    public static async Task<IReadOnlyList<DepartmentNode>> TreeAsync(IdentityHubDbContext db, CancellationToken cancellationToken)
    {
        var all = await db.Departments.AsNoTracking().ToListAsync(cancellationToken);
        var users = await db.Users.Where(u => u.DepartmentId != null).GroupBy(u => u.DepartmentId)
            .Select(g => new { Id = g.Key!.Value, Count = g.Count() }).ToDictionaryAsync(g => g.Id, g => g.Count, cancellationToken);
        var byParent = all.ToLookup(d => d.ParentId);
        var ordered = new List<DepartmentNode>(all.Count);
        void Visit(Guid? parent, int depth)
        {
            foreach (var child in byParent[parent].OrderBy(d => d.Name, StringComparer.CurrentCulture))
            {
                ordered.Add(new DepartmentNode(child, depth, users.GetValueOrDefault(child.Id)));
                Visit(child.Id, depth + 1);
            }
        }

        Visit(null, 0);
        return ordered;
    }

    /// <summary>"Company / Finance / Payables", for selects (walks up the parents, so it does not depend on how paths are spelled).</summary>
    public string Label(IReadOnlyList<DepartmentNode> tree)
    {
        var names = new List<string>();
        for (var current = Department; current is not null && names.Count <= tree.Count;
             current = current.ParentId is { } parent ? tree.FirstOrDefault(n => n.Department.Id == parent)?.Department : null)
        {
            names.Insert(0, current.Name);
        }

        return string.Join(" / ", names);
    }
}

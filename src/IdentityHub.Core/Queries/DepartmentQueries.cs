using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>A department with its depth in the tree and how many people it holds directly.</summary>
public sealed record DepartmentTreeNode(Department Department, int Depth, int Users)
{
    public long Revision => Core.Revision.Of(Department.UpdatedAt);

    /// <summary>"Company / Finance / Payables", for selects (walks up the parents, so it does not depend on how paths are spelled).</summary>
    public string Label(IReadOnlyList<DepartmentTreeNode> tree)
    {
        ArgumentNullException.ThrowIfNull(tree);
        var names = new List<string>();
        for (var current = Department; current is not null && names.Count <= tree.Count;
             current = current.ParentId is { } parent ? tree.FirstOrDefault(n => n.Department.Id == parent)?.Department : null)
        {
            names.Insert(0, current.Name);
        }

        return string.Join(" / ", names);
    }
}

/// <summary>Reads of the department tree shared by the console and the admin API.</summary>
public sealed class DepartmentQueries(IdentityHubDbContext db)
{
    /// <summary>The department with its parent (for the parent's name); null when there is none.</summary>
    public Task<Department?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        db.Departments.AsNoTracking().Include(d => d.Parent).SingleOrDefaultAsync(d => d.Id == id, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => db.Departments.CountAsync(cancellationToken);

    /// <summary>
    /// Departments (with their parent) whose name or code contains <paramref name="search"/>; <paramref name="parentId"/> gives
    /// the direct children of one, <paramref name="root"/> the top level. Unordered, for the caller's sort.
    /// </summary>
    public IQueryable<Department> Find(string? search = null, Guid? parentId = null, bool root = false)
    {
        var query = db.Departments.AsNoTracking().Include(d => d.Parent).WhereAnyContains(search, d => d.Name, d => d.Code);
        if (parentId is { } parent)
        {
            query = query.Where(d => d.ParentId == parent);
        }
        else if (root)
        {
            query = query.Where(d => d.ParentId == null);
        }

        return query;
    }

    /// <summary>The whole tree in depth-first order, children by name as the reader's culture sorts them.</summary>
    public async Task<IReadOnlyList<DepartmentTreeNode>> TreeAsync(CancellationToken cancellationToken)
    {
        var all = await db.Departments.AsNoTracking().ToListAsync(cancellationToken);
        var users = await db.Users.Where(u => u.DepartmentId != null).GroupBy(u => u.DepartmentId)
            .Select(g => new { Id = g.Key!.Value, Count = g.Count() }).ToDictionaryAsync(g => g.Id, g => g.Count, cancellationToken);
        var byParent = all.ToLookup(d => d.ParentId);
        var ordered = new List<DepartmentTreeNode>(all.Count);
        void Visit(Guid? parent, int depth)
        {
            foreach (var child in byParent[parent].OrderBy(d => d.Name, StringComparer.CurrentCulture))
            {
                ordered.Add(new DepartmentTreeNode(child, depth, users.GetValueOrDefault(child.Id)));
                Visit(child.Id, depth + 1);
            }
        }

        Visit(null, 0);
        return ordered;
    }
}

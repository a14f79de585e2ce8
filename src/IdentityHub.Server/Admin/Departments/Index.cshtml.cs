using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>The department tree: create, rename, move under another parent, delete. Every rule is the Core's.</summary>
public sealed class IndexModel(
    IdentityHubDbContext db, IdentityHub.Core.Directory.Departments departments, Consequences consequences, Pickers pickers) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    public IReadOnlyList<DepartmentNode> Tree { get; private set; } = [];

    public PickerField ParentPicker => new(PickerKind.Department, "dept-parent", "Input.ParentId", "Input.ParentText", Input.ParentId?.ToString(), Input.ParentText,
        ThemeTexts["admin.departments.parent"]) { Placeholder = ThemeTexts["admin.departments.noParent"] };

    public async Task OnGetAsync(Guid? id, CancellationToken cancellationToken)
    {
        if (CanWrite && Confirming == "delete" && id is { } departmentId && await consequences.OfDeletingDepartmentAsync(departmentId, cancellationToken) is { } impact)
        {
            Confirm = await DeletingAsync(impact, cancellationToken);
        }

        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        var (parentOk, parentId) = await pickers.DepartmentAsync(ModelState, "Input.ParentId", Input.ParentId, Input.ParentText, cancellationToken);
        if (!parentOk)
        {
            Alert = new ConsoleAlert(ThemeTexts["admin.error.invalid"], []);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        try
        {
            var created = await departments.CreateAsync(new DepartmentInput(Input.Code, Input.Name, parentId), cancellationToken);
            return Done($"{created.Name} ({created.Code})", "/admin/departments");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            Input.ParentText = await pickers.DepartmentLabelAsync(parentId, cancellationToken) ?? Input.ParentText;
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    /// <summary>Deletes after the confirmation step, with the revision that step (or the row) read.</summary>
    public async Task<IActionResult> OnPostDeleteAsync(Guid id, long? revision, CancellationToken cancellationToken)
    {
        var name = await db.Departments.AsNoTracking().Where(d => d.Id == id).Select(d => d.Name).SingleOrDefaultAsync(cancellationToken);
        try
        {
            await departments.DeleteAsync(id, revision, cancellationToken);
            return Did("/admin/departments", "admin.done.departmentDeleted", name ?? id.ToString());
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken) => Tree = await DepartmentNode.TreeAsync(db, cancellationToken);

    private async Task<Confirmation> DeletingAsync(DepartmentImpact impact, CancellationToken cancellationToken)
    {
        var texts = ThemeTexts;
        var refusal = await departments.RefusalToDeleteAsync(impact.Id, cancellationToken);
        return new Confirmation(
            "delete-department", texts["admin.confirm.department.title", impact.Name, impact.Code],
            [
                texts["admin.confirm.department.holds", impact.People, impact.Children, impact.Assignments],
                texts["admin.confirm.department.gone"],
            ],
            "/admin/departments?handler=delete",
            new Dictionary<string, string?>(StringComparer.Ordinal)
            {
                ["id"] = impact.Id.ToString(),
                ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            texts["admin.confirm.department.yes"], "/admin/departments")
        {
            Blockers = refusal is null ? [] : [ConsoleForms.Localize(refusal, refusal.Title, texts)],
        };
    }
}

public sealed class DepartmentForm
{
    public string? Code { get; set; }

    public string? Name { get; set; }

    public Guid? ParentId { get; set; }

    /// <summary>What the parent picker shows or was typed into it.</summary>
    public string? ParentText { get; set; }
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

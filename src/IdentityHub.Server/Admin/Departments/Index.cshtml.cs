using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>The department tree: create, rename, move under another parent, delete. Every rule is the Core's.</summary>
public sealed class IndexModel(
    DepartmentQueries queries, IdentityHub.Core.Directory.Departments departments, Consequences consequences, Pickers pickers) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

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
        var name = (await queries.GetAsync(id, cancellationToken))?.Name;
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

    private async Task LoadAsync(CancellationToken cancellationToken) => Tree = await queries.TreeAsync(cancellationToken);

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

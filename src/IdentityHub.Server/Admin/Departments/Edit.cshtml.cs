using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Departments;

/// <summary>One department: rename it, or move it (and its subtree) under another parent.</summary>
public sealed class EditModel(DepartmentQueries queries, IdentityHub.Core.Directory.Departments departments, Pickers pickers) : ConsolePageModel
{
    [BindProperty]
    public DepartmentForm Input { get; set; } = new();

    [BindProperty]
    public long? Revision { get; set; }

    public Department? Department { get; private set; }

    public PickerField ParentPicker => new(PickerKind.Department, "dept-parent", "Input.ParentId", "Input.ParentText", Input.ParentId?.ToString(), Input.ParentText,
        ThemeTexts["admin.departments.parent"]) { Placeholder = ThemeTexts["admin.departments.noParent"] };

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        Input = new DepartmentForm { Code = Department!.Code, Name = Department.Name, ParentId = Department.ParentId };
        Input.ParentText = await pickers.DepartmentLabelAsync(Input.ParentId, cancellationToken);
        Revision = IdentityHub.Core.Revision.Of(Department.UpdatedAt);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken)
    {
        var (parentOk, parentId) = await pickers.DepartmentAsync(ModelState, "Input.ParentId", Input.ParentId, Input.ParentText, cancellationToken);
        if (!parentOk)
        {
            Alert = new ConsoleAlert(ThemeTexts["admin.error.invalid"], []);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }

        try
        {
            var saved = await departments.UpdateAsync(id, new DepartmentInput(Input.Code, Input.Name, parentId), Revision, cancellationToken);
            return Done(saved.Name, "/admin/departments");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            Input.ParentId = parentId;
            Input.ParentText = await pickers.DepartmentLabelAsync(parentId, cancellationToken) ?? Input.ParentText;
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    /// <summary>Sets whether the department's subtree must sign in with a second factor.</summary>
    public async Task<IActionResult> OnPostMfaAsync(Guid id, bool requireMfa, CancellationToken cancellationToken)
    {
        try
        {
            var saved = await departments.SetRequireMfaAsync(id, requireMfa, Revision, cancellationToken);
            return Done(saved.Name, $"/admin/departments/{id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            return await OnGetAsync(id, cancellationToken);
        }
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Department = await queries.GetAsync(id, cancellationToken);
        return Department is not null;
    }
}

using IdentityHub.Core;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Users;

/// <summary>Creates a user (<c>/admin/users/edit</c>, with an optional first password) or edits one.</summary>
public sealed class EditModel(UserQueries queries, UserDirectory directory, Pickers pickers) : ConsolePageModel
{
    [BindProperty]
    public UserForm Input { get; set; } = new();

    [BindProperty]
    public long? Revision { get; set; }

    public string? Id { get; private set; }

    public PickerField DepartmentPicker => new(PickerKind.Department, "user-department", "Input.DepartmentId", "Input.DepartmentText", Input.DepartmentId?.ToString(),
        Input.DepartmentText, ThemeTexts["admin.users.department"]) { Placeholder = ThemeTexts["admin.users.noDepartment"] };

    public PickerField ManagerPicker => new(PickerKind.User, "user-manager", "Input.ManagerId", "Input.ManagerText", Input.ManagerId, Input.ManagerText,
        ThemeTexts["admin.users.manager"]) { Placeholder = ThemeTexts["admin.users.noManager"] };

    public async Task<IActionResult> OnGetAsync(string? id, Guid? department, CancellationToken cancellationToken)
    {
        Id = id;
        if (id is null)
        {
            Input.DepartmentId = department;
            await LabelPickersAsync(cancellationToken);
            return Page();
        }

        if ((await queries.GetAsync(id, cancellationToken))?.Account is not { } user)
        {
            return NotFound();
        }

        Input = new UserForm
        {
            UserName = user.UserName, DisplayName = user.DisplayName, Email = user.Email, PhoneNumber = user.PhoneNumber,
            EmployeeNumber = user.EmployeeNumber, DepartmentId = user.DepartmentId, ManagerId = user.ManagerId,
        };
        Revision = IdentityHub.Core.Revision.Of(user.UpdatedAt);
        await LabelPickersAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string? id, CancellationToken cancellationToken)
    {
        Id = id;
        var (departmentOk, departmentId) = await pickers.DepartmentAsync(ModelState, "Input.DepartmentId", Input.DepartmentId, Input.DepartmentText, cancellationToken);
        var (managerOk, managerId) = await pickers.UserAsync(ModelState, "Input.ManagerId", Input.ManagerId, Input.ManagerText, cancellationToken);
        if (!departmentOk || !managerOk)
        {
            Alert = new ConsoleAlert(ThemeTexts["admin.error.invalid"], []);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        Input.DepartmentId = departmentId;
        Input.ManagerId = managerId;
        var input = new UserInput(Input.UserName, Input.DisplayName, Input.Email, Input.PhoneNumber, Input.EmployeeNumber, departmentId, managerId);
        try
        {
            if (id is null)
            {
                var created = await directory.CreateAsync(input, string.IsNullOrEmpty(Input.InitialPassword) ? null : Input.InitialPassword, Input.Invite, cancellationToken);
                return Done(created.UserName, $"/admin/users/{created.Id}");
            }

            var saved = await directory.UpdateAsync(id, input, Revision, cancellationToken);
            return Done(saved.UserName, $"/admin/users/{saved.Id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            Id = id;
            await LabelPickersAsync(cancellationToken);
            return Page();
        }
    }

    /// <summary>The pickers show the chosen department and manager by their labels.</summary>
    private async Task LabelPickersAsync(CancellationToken cancellationToken)
    {
        Input.DepartmentText = await pickers.DepartmentLabelAsync(Input.DepartmentId, cancellationToken);
        Input.ManagerText = await pickers.UserLabelAsync(Input.ManagerId, cancellationToken);
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

    /// <summary>What the department picker shows or was typed into it.</summary>
    public string? DepartmentText { get; set; }

    public string? ManagerId { get; set; }

    /// <summary>What the manager picker shows or was typed into it.</summary>
    public string? ManagerText { get; set; }

    /// <summary>Only when creating; left empty, the user gets no password (another sign-in method, or a reset).</summary>
    public string? InitialPassword { get; set; }

    /// <summary>Only when creating: mail the person an invitation link to set their password.</summary>
    public bool Invite { get; set; }
}

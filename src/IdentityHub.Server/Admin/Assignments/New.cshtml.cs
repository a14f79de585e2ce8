using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>
/// Grants a role: user × role × scope (a department subtree or everywhere) × validity × reason. Separation of
/// duty and delegation are the Core's checks; a refusal shows its message as it is.
/// </summary>
public sealed class NewModel(RoleQueries roleQueries, RoleAssignments assignments, Pickers pickers) : ConsolePageModel
{
    [BindProperty(SupportsGet = true)]
    public AssignmentForm Input { get; set; } = new();

    public IReadOnlyList<Role> Roles { get; private set; } = [];

    /// <summary>The person: searched on the server (the directory may hold tens of thousands), never listed in full.</summary>
    public PickerField UserPicker => new(PickerKind.User, "a-user", "Input.UserId", "Input.UserText", Input.UserId, Input.UserText, ThemeTexts["admin.assignments.user"])
    {
        Required = true,
    };

    public PickerField ScopePicker => new(PickerKind.Department, "a-scope", "Input.DepartmentId", "Input.DepartmentText", Input.DepartmentId?.ToString(), Input.DepartmentText,
        ThemeTexts["admin.assignments.scope"]) { Placeholder = ThemeTexts["admin.assignments.everywhere"] };

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        ModelState.Clear();
        Input.UserText = await pickers.UserLabelAsync(Input.UserId, cancellationToken);
        Input.DepartmentText = await pickers.DepartmentLabelAsync(Input.DepartmentId, cancellationToken);
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var (userOk, userId) = await pickers.UserAsync(ModelState, "Input.UserId", Input.UserId, Input.UserText, cancellationToken);
        var (scopeOk, scopeId) = await pickers.DepartmentAsync(ModelState, "Input.DepartmentId", Input.DepartmentId, Input.DepartmentText, cancellationToken);
        if (!userOk || !scopeOk)
        {
            Alert = new ConsoleAlert(ThemeTexts["admin.error.invalid"], []);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        Input.UserId = userId;
        Input.DepartmentId = scopeId;
        try
        {
            var granted = await assignments.GrantAsync(
                new AssignmentInput(userId, Input.RoleId, scopeId, ConsoleForms.StartOfDay(Input.ValidFrom), ConsoleForms.EndOfDay(Input.ValidUntil), Input.Reason),
                cancellationToken);
            return Done(null, $"/admin/users/{granted.UserId}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            // The form comes back as it was entered: the chosen person and scope by their labels, the dates as typed.
            Input.UserText = await pickers.UserLabelAsync(userId, cancellationToken) ?? Input.UserText;
            Input.DepartmentText = await pickers.DepartmentLabelAsync(scopeId, cancellationToken) ?? Input.DepartmentText;
            await LoadAsync(cancellationToken);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Roles = await roleQueries.ListAsync(new RoleFilter(), cancellationToken);
}

public sealed class AssignmentForm
{
    public string? UserId { get; set; }

    public Guid? RoleId { get; set; }

    /// <summary>What the user picker shows or was typed into it.</summary>
    public string? UserText { get; set; }

    /// <summary>Empty: everywhere.</summary>
    public Guid? DepartmentId { get; set; }

    /// <summary>What the scope picker shows or was typed into it.</summary>
    public string? DepartmentText { get; set; }

    public DateOnly? ValidFrom { get; set; }

    /// <summary>The last day the assignment counts (it ends at the following midnight, UTC).</summary>
    public DateOnly? ValidUntil { get; set; }

    public string? Reason { get; set; }
}

using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>Current and upcoming role assignments across the company; end one here or on the user's page.</summary>
public sealed class IndexModel(AssignmentQueries queries, UserQueries users, RoleAssignments assignments, TimeProvider clock) : ConsolePageModel
{
    private const int Limit = 200;

    [BindProperty(SupportsGet = true)]
    public string? Role { get; set; }

    public IReadOnlyList<RoleAssignment> Rows { get; private set; } = [];

    public IReadOnlyDictionary<string, PersonName> UserNames { get; private set; } = new Dictionary<string, PersonName>();

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Now = clock.GetUtcNow();
        Rows = await queries.ListAsync(new AssignmentFilter(CurrentOrUpcoming: true, Role: Role), Limit, cancellationToken);
        UserNames = await users.NamesAsync(Rows.Select(a => a.UserId), cancellationToken);
    }

    public async Task<IActionResult> OnPostEndAsync(Guid assignmentId, string? reason, string? returnTo, CancellationToken cancellationToken)
    {
        var back = returnTo is { Length: > 0 } userId ? $"/admin/users/{Uri.EscapeDataString(userId)}" : "/admin/assignments";
        try
        {
            await assignments.EndAsync(assignmentId, string.IsNullOrWhiteSpace(reason) ? "Ended in the console" : reason, cancellationToken);
            return Done(null, back);
        }
        catch (RuleViolation violation)
        {
            Notice = ConsoleForms.Localize(violation, violation.Title, HttpContext.RequestServices.GetRequiredService<ThemeMessages>());
            return LocalRedirect(back);
        }
    }
}

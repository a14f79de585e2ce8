using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>Current and upcoming role assignments across the company; end one here or on the user's page.</summary>
public sealed class IndexModel(IdentityHubDbContext db, RoleAssignments assignments, TimeProvider clock) : ConsolePageModel
{
    private const int Limit = 200;

    [BindProperty(SupportsGet = true)]
    public string? Role { get; set; }

    public IReadOnlyList<RoleAssignment> Rows { get; private set; } = [];

    public IReadOnlyDictionary<string, string> UserNames { get; private set; } = new Dictionary<string, string>();

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Now = clock.GetUtcNow();
        var now = Now;
        IQueryable<RoleAssignment> query = db.RoleAssignments.AsNoTracking().Include(a => a.Role).ThenInclude(r => r!.Application).Include(a => a.Department)
            .Where(RoleAssignment.CurrentOrUpcomingAt(now));
        if (Role is { Length: > 0 } role)
        {
            // The key or the display name people know it by ("expense-approver", "Finance approver").
            query = query.Where(a => a.Role!.Name.Contains(role) || (a.Role.DisplayName != null && a.Role.DisplayName.Contains(role)));
        }

        Rows = await query.OrderByDescending(a => a.GrantedAt).Take(Limit).ToListAsync(cancellationToken);
        var ids = Rows.Select(a => a.UserId).Distinct().ToList();
        UserNames = await db.Users.Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.UserName ?? u.Id, cancellationToken);
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
            Notice = violation.Title;
            return LocalRedirect(back);
        }
    }
}

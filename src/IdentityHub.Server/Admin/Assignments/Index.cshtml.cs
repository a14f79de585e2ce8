using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>Current and upcoming role assignments across the company; end one here or on the user's page.</summary>
public sealed class IndexModel(IdentityHubDbContext db, RoleAssignments assignments, Consequences consequences, TimeProvider clock) : ConsolePageModel
{
    private const int Limit = 200;

    [BindProperty(SupportsGet = true)]
    public string? Role { get; set; }

    public IReadOnlyList<RoleAssignment> Rows { get; private set; } = [];

    public IReadOnlyDictionary<string, string> UserNames { get; private set; } = new Dictionary<string, string>();

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(Guid? id, string? returnTo, CancellationToken cancellationToken)
    {
        if (CanWrite && Confirming == "end" && id is { } assignmentId && await consequences.OfEndingAssignmentAsync(assignmentId, cancellationToken) is { } impact
            && impact.Assignment.EndedAt is null)
        {
            Confirm = Ending(impact, returnTo);
        }

        await ListAsync(cancellationToken);
    }

    private async Task ListAsync(CancellationToken cancellationToken)
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

    /// <summary>Ends an assignment after the confirmation step, with the revision that step read.</summary>
    public async Task<IActionResult> OnPostEndAsync(Guid assignmentId, string? reason, string? returnTo, long? revision, CancellationToken cancellationToken)
    {
        var back = Back(returnTo);
        try
        {
            var ended = await assignments.EndAsync(assignmentId, string.IsNullOrWhiteSpace(reason) ? "Ended in the console" : reason, revision, cancellationToken);
            var user = await db.Users.AsNoTracking().Where(u => u.Id == ended.UserId).Select(u => u.DisplayName).SingleOrDefaultAsync(cancellationToken);
            return Did(back, "admin.done.assignmentEnded", Roles.RoleNames.Text(ended.Role!), user ?? ended.UserId);
        }
        catch (RuleViolation violation)
        {
            Notice = ConsoleForms.Localize(violation, violation.Title, ThemeTexts);
            return LocalRedirect(back);
        }
    }

    private static string Back(string? returnTo) =>
        returnTo is { Length: > 0 } userId ? $"/admin/users/{Uri.EscapeDataString(userId)}" : "/admin/assignments";

    private Confirmation Ending(AssignmentEndImpact impact, string? returnTo)
    {
        var a = impact.Assignment;
        var role = Roles.RoleNames.Text(a.Role!);
        var scope = a.Department?.Name is { } department ? ThemeTexts["admin.users.grantScope", department].Value : ThemeTexts["admin.users.grantEverywhere"].Value;
        var consequences = new List<string>
        {
            ThemeTexts["admin.confirm.end.window", scope, ConsoleForms.ShowFrom(a.ValidFrom), ConsoleForms.ShowUntil(a.ValidUntil, ThemeTexts)],
            impact.Permissions.Count > 0
                ? ThemeTexts["admin.confirm.end.permissions", impact.UserName, string.Join(", ", impact.Permissions)]
                : ThemeTexts["admin.confirm.end.nothingNow"],
            impact.Systems.Count == 0
                ? ThemeTexts["admin.confirm.noSystems"]
                : ThemeTexts["admin.confirm.end.systems", impact.Systems.Count, string.Join(", ", impact.Systems.Select(s => s.Label))],
        };
        if (impact.RevokesTokens && impact.Permissions.Count > 0)
        {
            consequences.Add(ThemeTexts["admin.confirm.end.tokens"]);
        }

        consequences.Add(ThemeTexts["admin.confirm.end.history"]);
        var fields = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["assignmentId"] = a.Id.ToString(),
            ["returnTo"] = returnTo,
            ["revision"] = IdentityHub.Core.Revision.Of(a.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new Confirmation("end", ThemeTexts["admin.confirm.end.title", role, impact.UserName], consequences, "/admin/assignments?handler=end", fields,
            ThemeTexts["admin.confirm.end.yes"], Back(returnTo))
        {
            ReasonLabel = ThemeTexts["admin.confirm.end.reason"],
        };
    }
}

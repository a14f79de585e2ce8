using System.Security.Claims;
using IdentityHub.Core.Queries;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Admin;

/// <summary>The console home: how much the directory holds, the latest changes, and sign-ins over time.</summary>
public sealed class IndexModel(
    UserQueries users, DepartmentQueries departments, ApplicationQueries applications, RoleQueries roles, AssignmentQueries assignments, AuditQueries audit,
    ConnectorQueries connectors, TimeProvider clock) : PageModel
{
    public const string SignInSucceeded = "signin.succeeded";
    public const string SignInFailed = "signin.failed";
    private const int RecentChanges = 10;

    public string UserName { get; private set; } = "";

    public IReadOnlyList<string> Roles { get; private set; } = [];

    public int Users { get; private set; }

    public int Departments { get; private set; }

    public int Applications { get; private set; }

    public int AccessRoles { get; private set; }

    public int ActiveAssignments { get; private set; }

    public int Connectors { get; private set; }

    /// <summary>
    /// The next steps of a new installation (first application, its first connected system, people), shown while one is
    /// still open: without an application, a connector, or anyone but the first administrator there is little to manage.
    /// </summary>
    public IReadOnlyList<SetupStep> NextSteps { get; private set; } = [];

    public IReadOnlyList<AuditEntry> Recent { get; private set; } = [];

    /// <summary>"day" (the last 14 days) or "hour" (the last 24 hours).</summary>
    [BindProperty(SupportsGet = true)]
    public string By { get; set; } = "day";

    public SignInChart Chart { get; private set; } = new([], 0);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        UserName = User.Identity?.Name ?? "";
        Roles = User.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        var now = clock.GetUtcNow();
        Users = await users.CountAsync(cancellationToken);
        Departments = await departments.CountAsync(cancellationToken);
        Applications = await applications.CountAsync(cancellationToken);
        Connectors = await connectors.CountAsync(cancellationToken);
        AccessRoles = await roles.CountAsync(cancellationToken);
        ActiveAssignments = await assignments.CountActiveAsync(cancellationToken);
        // The trail is the audit readers' (issue 6): others see the counts, not who changed what.
        Recent = ConsoleSections.Audit.CanRead(User) ? await audit.RecentAsync(RecentChanges, cancellationToken) : [];
        Chart = await SignInsAsync(now, hourly: By == "hour", cancellationToken);
        NextSteps = Steps();
    }

    private List<SetupStep> Steps()
    {
        var steps = new List<SetupStep>
        {
            new("application", Applications > 0, ConsoleSections.Applications.CanWrite(User) ? "/admin/applications#create-heading" : null),
            new("connector", Connectors > 0, ConsoleSections.Provisioning.CanRead(User) ? "/admin/provisioning" : null),
            new("people", Users > 1, ConsoleSections.Users.CanWrite(User) ? "/admin/users/edit" : null),
        };
        return steps.All(s => s.Done) ? [] : steps;
    }

    private async Task<SignInChart> SignInsAsync(DateTimeOffset now, bool hourly, CancellationToken cancellationToken)
    {
        var step = hourly ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var buckets = hourly ? 24 : 14;
        var end = hourly
            ? new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).Add(step)
            : new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).Add(step);
        var start = end - (step * buckets);
        var events = await audit.OccurrencesAsync([SignInSucceeded, SignInFailed], start, cancellationToken);
        var bars = Enumerable.Range(0, buckets).Select(i =>
        {
            var from = start + (step * i);
            var inBucket = events.Where(e => e.OccurredAt >= from && e.OccurredAt < from + step).ToList();
            return new SignInBar(from, hourly ? from.ToString("HH", System.Globalization.CultureInfo.InvariantCulture) : from.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                inBucket.Count(e => e.Type == SignInSucceeded), inBucket.Count(e => e.Type == SignInFailed));
        }).ToList();
        return new SignInChart(bars, Math.Max(1, bars.Max(b => Math.Max(b.Succeeded, b.Failed))));
    }
}

/// <summary>One step of a new installation's checklist: its key (its texts are <c>admin.dashboard.step.&lt;key&gt;</c>), whether it is done, and where to do it.</summary>
public sealed record SetupStep(string Key, bool Done, string? Link);

public sealed record SignInBar(DateTimeOffset From, string Label, int Succeeded, int Failed);

public sealed record SignInChart(IReadOnlyList<SignInBar> Bars, int Max)
{
    public int Succeeded => Bars.Sum(b => b.Succeeded);

    public int Failed => Bars.Sum(b => b.Failed);
}

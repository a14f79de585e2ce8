using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>Current and upcoming role assignments across the company; end one here or on the user's page.</summary>
public sealed class IndexModel(AssignmentQueries queries, UserQueries users, RoleAssignments assignments, Consequences consequences, TimeProvider clock) : ConsolePageModel
{
    private const int Limit = 200;

    [BindProperty(SupportsGet = true)]
    public string? Role { get; set; }

    public IReadOnlyList<RoleAssignment> Rows { get; private set; } = [];

    public IReadOnlyDictionary<string, PersonName> UserNames { get; private set; } = new Dictionary<string, PersonName>();

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
        Rows = await queries.ListAsync(new AssignmentFilter(CurrentOrUpcoming: true, Role: Role), Limit, cancellationToken);
        UserNames = await users.NamesAsync(Rows.Select(a => a.UserId), cancellationToken);
    }

    /// <summary>Ends an assignment after the confirmation step, with the revision that step read.</summary>
    public async Task<IActionResult> OnPostEndAsync(Guid assignmentId, string? reason, string? returnTo, long? revision, CancellationToken cancellationToken)
    {
        var back = Back(returnTo);
        try
        {
            var ended = await assignments.EndAsync(assignmentId, string.IsNullOrWhiteSpace(reason) ? "Ended in the console" : reason, revision, cancellationToken);
            var user = (await users.NamesAsync([ended.UserId], cancellationToken)).GetValueOrDefault(ended.UserId);
            return Did(back, "admin.done.assignmentEnded", Roles.RoleNames.Text(ended.Role!), user?.DisplayName ?? ended.UserId);
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
        var scope = a.Department?.Name is { } department ? ThemeTexts["admin.users.grantScoped", department].Value : ThemeTexts["admin.users.grantEverywhere"].Value;
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

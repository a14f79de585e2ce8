using System.Reflection;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Users;

/// <summary>
/// One person: department, assignments, effective permissions with the reason for each, sessions,
/// audit trail; suspend, reactivate, mark as left, end sessions; a super admin also sets admin roles here.
/// </summary>
public sealed class DetailModel(
    UserQueries queries, AssignmentQueries assignments, AuditQueries audit, DepartmentQueries departments, UserDirectory directory,
    EffectiveEntitlements entitlements, UserManager<UserAccount> users, Consequences consequences, DirectoryLookup lookup, TimeProvider clock,
    IdentityHub.Server.Hosting.Mail.MailSettings mail) : ConsolePageModel
{
    /// <summary>Where mails go as .eml files when no SMTP server is configured (the page says so); null with SMTP.</summary>
    public string? MailPickupDirectory => mail.UsesSmtp ? null : mail.PickupDirectory;

    /// <summary>The field the set-password form's refusal is shown next to.</summary>
    public string? Password { get; set; }

    /// <summary>What <c>?confirm=</c> asks for: signing the person out everywhere.</summary>
    public const string ConfirmEndSessions = "endSessions";

    private const int TrailLength = 20;

    public UserAccount? Account { get; private set; }

    /// <summary>The manager's display name, when the person has one.</summary>
    public string? ManagerName { get; private set; }

    public IReadOnlyList<RoleAssignment> Assignments { get; private set; } = [];

    public IReadOnlyList<EntitlementGrant> Grants { get; private set; } = [];

    public IReadOnlyList<AuditEntry> Trail { get; private set; } = [];

    public IReadOnlyList<string> AdminRolesHeld { get; private set; } = [];

    public IReadOnlySet<Guid> Administered { get; private set; } = new HashSet<Guid>();

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public int BrowserSessions { get; private set; }

    public int ActiveTokens { get; private set; }

    public DateTimeOffset Now { get; private set; }

    [BindProperty]
    public string? Reason { get; set; }

    public bool CanSetAdminRoles => User.IsInRole(AdminRoles.SuperAdmin);

    /// <summary>Sessions are the security side's, as in the admin API; the handler's own writers say who.</summary>
    public bool CanEndSessions =>
        typeof(DetailModel).GetMethod(nameof(OnPostEndSessionsAsync))!.GetCustomAttribute<ConsoleWritersAttribute>()!.Roles.Any(User.IsInRole);

    /// <summary>The person's audit trail is shown to the audit trail's readers only.</summary>
    public bool CanReadTrail => ConsoleSections.Audit.CanRead(User);

    /// <summary>The OA or HR source the person came from, when one did.</summary>
    public UserOrigin? Origin { get; private set; }

    /// <summary>The source's console page, for the super administrators who manage sources.</summary>
    public string? SourceLink => Origin is { } origin && User.IsInRole(AdminRoles.SuperAdmin) ? $"/admin/sources/{origin.SourceId}" : null;

    /// <summary>The person's manager, when they have one.</summary>
    public UserChoice? Manager { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        if (CanWrite && Confirming is "suspend" or "left" && await consequences.OfStatusChangeAsync(id, cancellationToken) is { } impact
            && (Confirming == "left" ? impact.Status != UserStatus.Left : impact.Status == UserStatus.Active))
        {
            Confirm = Confirming == "left" ? Leaving(impact) : Suspending(impact);
        }
        else if (CanEndSessions && Confirming == ConfirmEndSessions && await consequences.OfStatusChangeAsync(id, cancellationToken) is { } signedIn)
        {
            Confirm = EndingSessions(signedIn);
        }

        return Page();
    }

    /// <summary>Suspends after the confirmation step, with the revision that step read (a change since then is refused as stale).</summary>
    public Task<IActionResult> OnPostSuspendAsync(string id, long? revision, CancellationToken cancellationToken) =>
        WriteAsync(id, async () => ThemeTexts["admin.done.suspended", (await directory.SuspendAsync(id, Reason, revision, cancellationToken)).DisplayName], cancellationToken);

    public Task<IActionResult> OnPostReactivateAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, async () => ThemeTexts["admin.done.reactivated", (await directory.ReactivateAsync(id, cancellationToken)).DisplayName], cancellationToken);

    /// <summary>Marks as left after the confirmation step, with the revision that step read.</summary>
    public Task<IActionResult> OnPostLeftAsync(string id, long? revision, CancellationToken cancellationToken) =>
        WriteAsync(id, async () => ThemeTexts["admin.done.left", (await directory.MarkLeftAsync(id, Reason, revision, cancellationToken)).DisplayName], cancellationToken);

    /// <summary>Signs the person out everywhere after the confirmation step (<see cref="ConfirmEndSessions"/>).</summary>
    [ConsoleWriters(AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin)]
    public Task<IActionResult> OnPostEndSessionsAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await directory.EndSessionsAsync(id, cancellationToken);
            return ThemeTexts["admin.done.sessionsEnded", await NameAsync(id, cancellationToken)];
        }, cancellationToken);

    /// <summary>Removes the person's second factors (they enrol again at the next sign-in when required); audited, sessions end.</summary>
    [ConsoleWriters(AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin)]
    public Task<IActionResult> OnPostResetFactorsAsync(string id, [FromServices] IdentityHub.Core.Factors.AccountFactors factors, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await factors.ResetAsync(id, cancellationToken);
            return ThemeTexts["admin.done.factorsReset", await NameAsync(id, cancellationToken)];
        }, cancellationToken);

    /// <summary>Mails (again) the invitation whose link lets the person set their password.</summary>
    public Task<IActionResult> OnPostInviteAsync(string id, [FromServices] AccountRecovery recovery, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await recovery.InviteAsync(id, cancellationToken);
            return ThemeTexts["admin.done.invited", await NameAsync(id, cancellationToken)];
        }, cancellationToken);

    /// <summary>Ends the lockout now.</summary>
    public Task<IActionResult> OnPostUnlockAsync(string id, [FromServices] AccountRecovery recovery, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await recovery.UnlockAsync(id, cancellationToken);
            return ThemeTexts["admin.done.unlocked", await NameAsync(id, cancellationToken)];
        }, cancellationToken);

    /// <summary>Sets a (temporary) password; the person's sessions end.</summary>
    public Task<IActionResult> OnPostPasswordAsync(
        string id, string? newPassword, bool mustChange, [FromServices] AccountRecovery recovery, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await recovery.SetPasswordAsync(id, newPassword ?? "", mustChange, cancellationToken);
            return ThemeTexts[mustChange ? "admin.done.passwordSetTemporary" : "admin.done.passwordSet", await NameAsync(id, cancellationToken)];
        }, cancellationToken);

    public Task<IActionResult> OnPostAdminRolesAsync(string id, string[] roles, Guid[] departments, CancellationToken cancellationToken) =>
        WriteAsync(id, async () =>
        {
            await directory.SetAdminRolesAsync(id, roles, departments, cancellationToken);
            return ThemeTexts["common.saved"];
        }, cancellationToken);

    /// <summary>Writes, then shows what happened on the person's page (post/redirect/get); a refusal stays on the page.</summary>
    private async Task<IActionResult> WriteAsync(string id, Func<Task<Microsoft.Extensions.Localization.LocalizedString>> write, CancellationToken cancellationToken)
    {
        try
        {
            Notice = (await write()).Value;
            return LocalRedirect($"/admin/users/{id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    private Confirmation Leaving(StatusChangeImpact impact) => new(
        "left", ThemeTexts["admin.confirm.left.title", impact.DisplayName],
        [
            ThemeTexts["admin.confirm.signsOut", impact.BrowserSessions, impact.ValidTokens],
            ThemeTexts["admin.confirm.left.assignments", impact.OpenAssignments],
            Systems(impact, "admin.confirm.left.systems"),
            ThemeTexts["admin.confirm.left.final"],
        ],
        $"/admin/users/{Uri.EscapeDataString(impact.UserId)}?handler=left", Revision(impact), ThemeTexts["admin.users.markLeft"], $"/admin/users/{Uri.EscapeDataString(impact.UserId)}")
    {
        ReasonLabel = ThemeTexts["admin.users.statusReason"],
    };

    private Confirmation Suspending(StatusChangeImpact impact) => new(
        "suspend", ThemeTexts["admin.confirm.suspend.title", impact.DisplayName],
        [
            ThemeTexts["admin.confirm.suspend.signIn"],
            ThemeTexts["admin.confirm.signsOut", impact.BrowserSessions, impact.ValidTokens],
            ThemeTexts["admin.confirm.suspend.assignments", impact.OpenAssignments],
            Systems(impact, "admin.confirm.suspend.systems"),
        ],
        $"/admin/users/{Uri.EscapeDataString(impact.UserId)}?handler=suspend", Revision(impact), ThemeTexts["admin.users.suspend"], $"/admin/users/{Uri.EscapeDataString(impact.UserId)}")
    {
        ReasonLabel = ThemeTexts["admin.users.statusReason"],
    };

    private Confirmation EndingSessions(StatusChangeImpact impact) => new(
        "end-sessions", ThemeTexts["admin.confirm.sessions.title", impact.DisplayName],
        [
            ThemeTexts["admin.confirm.signsOut", impact.BrowserSessions, impact.ValidTokens],
            ThemeTexts["admin.confirm.sessions.again"],
        ],
        $"/admin/users/{Uri.EscapeDataString(impact.UserId)}?handler=endSessions", new Dictionary<string, string?>(StringComparer.Ordinal),
        ThemeTexts["admin.users.endSessions"], $"/admin/users/{Uri.EscapeDataString(impact.UserId)}");

    private string Systems(StatusChangeImpact impact, string key) =>
        impact.Systems.Count == 0
            ? ThemeTexts["admin.confirm.noSystems"]
            : ThemeTexts[key, impact.Systems.Count, string.Join(", ", impact.Systems.Select(s => s.Label))];

    private static Dictionary<string, string?> Revision(StatusChangeImpact impact) =>
        new(StringComparer.Ordinal) { ["revision"] = impact.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private async Task<string> NameAsync(string id, CancellationToken cancellationToken) =>
        (await queries.NamesAsync([id], cancellationToken)).GetValueOrDefault(id)?.DisplayName ?? id;

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Now = clock.GetUtcNow();
        if (await queries.GetAsync(id, cancellationToken) is not { } view)
        {
            return false;
        }

        Account = view.Account;
        Manager = await lookup.UserAsync(Account.ManagerId, cancellationToken);
        Origin = await queries.OriginAsync(Account, cancellationToken);

        Assignments = await assignments.OfUserAsync(id, cancellationToken);
        Grants = await entitlements.ExplainAsync(id, applicationId: null, cancellationToken);
        Trail = CanReadTrail ? await audit.OfUserAsync(id, TrailLength, cancellationToken) : [];
        AdminRolesHeld = [.. (await users.GetRolesAsync(Account)).Where(AdminRoles.All.Contains)];
        Administered = (await queries.AdministeredDepartmentsAsync(id, cancellationToken)).ToHashSet();
        Tree = await departments.TreeAsync(cancellationToken);
        (BrowserSessions, ActiveTokens) = await queries.SessionsAsync(id, cancellationToken);
        return true;
    }
}

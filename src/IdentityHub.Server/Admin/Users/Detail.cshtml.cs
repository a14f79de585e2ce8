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
    EffectiveEntitlements entitlements, UserManager<UserAccount> users, TimeProvider clock) : ConsolePageModel
{
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

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostSuspendAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, () => directory.SuspendAsync(id, Reason, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostReactivateAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, () => directory.ReactivateAsync(id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostLeftAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, () => directory.MarkLeftAsync(id, Reason, cancellationToken), cancellationToken);

    [ConsoleWriters(AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin)]
    public Task<IActionResult> OnPostEndSessionsAsync(string id, CancellationToken cancellationToken) =>
        WriteAsync(id, () => directory.EndSessionsAsync(id, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostAdminRolesAsync(string id, string[] roles, Guid[] departments, CancellationToken cancellationToken) =>
        WriteAsync(id, () => directory.SetAdminRolesAsync(id, roles, departments, cancellationToken), cancellationToken);

    private async Task<IActionResult> WriteAsync(string id, Func<Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await write();
            return Done(null, $"/admin/users/{id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation, prefix: "");
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Now = clock.GetUtcNow();
        if (await queries.GetAsync(id, cancellationToken) is not { } view)
        {
            return false;
        }

        (Account, ManagerName) = (view.Account, view.ManagerName);
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

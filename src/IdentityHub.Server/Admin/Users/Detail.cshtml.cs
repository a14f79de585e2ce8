using System.Reflection;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Audit;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Admin.Departments;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Server.Admin.Users;

/// <summary>
/// One person: department, assignments, effective permissions with the reason for each, sessions,
/// audit trail; suspend, reactivate, mark as left, end sessions; a super admin also sets admin roles here.
/// </summary>
public sealed class DetailModel(
    IdentityHubDbContext db, UserDirectory directory, EffectiveEntitlements entitlements,
    UserManager<UserAccount> users, TimeProvider clock) : ConsolePageModel
{
    private const int TrailLength = 20;

    public UserAccount? Account { get; private set; }

    public IReadOnlyList<RoleAssignment> Assignments { get; private set; } = [];

    public IReadOnlyList<EntitlementGrant> Grants { get; private set; } = [];

    public IReadOnlyList<AuditEvent> Trail { get; private set; } = [];

    public IReadOnlyList<string> AdminRolesHeld { get; private set; } = [];

    public IReadOnlySet<Guid> Administered { get; private set; } = new HashSet<Guid>();

    public IReadOnlyList<DepartmentNode> Tree { get; private set; } = [];

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
        Account = await db.Users.AsNoTracking().Include(u => u.Department).SingleOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (Account is null)
        {
            return false;
        }

        Assignments = await db.RoleAssignments.AsNoTracking().Include(a => a.Role).ThenInclude(r => r!.Application).Include(a => a.Department)
            .Where(a => a.UserId == id).ToListAsync(cancellationToken);
        Assignments = [.. Assignments.OrderByDescending(a => a.GrantedAt)];
        Grants = await entitlements.ExplainAsync(id, applicationId: null, cancellationToken);
        Trail = CanReadTrail
            ? await db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id || e.ActorId == id)
                .OrderByDescending(e => e.Sequence).Take(TrailLength).ToListAsync(cancellationToken)
            : [];
        AdminRolesHeld = [.. (await users.GetRolesAsync(Account)).Where(AdminRoles.All.Contains)];
        Administered = (await db.AdministeredDepartments.Where(a => a.UserId == id).Select(a => a.DepartmentId).ToListAsync(cancellationToken)).ToHashSet();
        Tree = await DepartmentNode.TreeAsync(db, cancellationToken);
        BrowserSessions = await db.SessionParticipants.Where(p => p.UserId == id).Select(p => p.Sid).Distinct().CountAsync(cancellationToken);
        ActiveTokens = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .CountAsync(t => t.Subject == id && t.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
        return true;
    }
}

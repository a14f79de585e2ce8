using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

public sealed record AssignmentInput(string? UserId, Guid? RoleId, Guid? DepartmentId, DateTimeOffset? ValidFrom, DateTimeOffset? ValidUntil, string? Reason);

public sealed record AssignmentSnapshot(
    Guid Id, string UserId, Guid RoleId, string RoleName, Guid? DepartmentId, DateTimeOffset ValidFrom, DateTimeOffset? ValidUntil, string Reason,
    string GrantedBy, DateTimeOffset? EndedAt, string? EndedBy, string? EndReason)
{
    public static AssignmentSnapshot Of(RoleAssignment a, string roleName) =>
        new(a.Id, a.UserId, a.RoleId, roleName, a.DepartmentId, a.ValidFrom, a.ValidUntil, a.Reason, a.GrantedBy, a.EndedAt, a.EndedBy, a.EndReason);
}

/// <summary>
/// Granting and ending roles. A grant is checked for existence, its window, separation of duty and, for
/// HR administrators, delegation (delegable roles only, inside the departments they administer).
/// </summary>
public sealed class RoleAssignments(
    IdentityHubDbContext db, SeparationOfDuty separation, EntitlementChanges changes, AccessLossRevocation revocation, AuditTrail audit,
    Delegation delegation, CurrentActor actor, TimeProvider clock)
{
    public async Task<RoleAssignment> GrantAsync(AssignmentInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = Revision.Now(clock);
        var errors = new FieldErrors();
        UserAccount? user = null;
        if (string.IsNullOrWhiteSpace(input.UserId))
        {
            errors.Add("userId", "A user is required.");
        }
        else if ((user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == input.UserId, cancellationToken)) is null)
        {
            errors.Add("userId", $"No user with id '{input.UserId}'.");
        }
        else if (user.Status == UserStatus.Left)
        {
            errors.Add("userId", $"'{user.UserName}' has left the company; roles cannot be granted to them.");
        }

        Role? role = null;
        if (input.RoleId is not { } roleId)
        {
            errors.Add("roleId", "A role is required.");
        }
        else if ((role = await db.AccessRoles.AsNoTracking().Include(r => r.Permissions).SingleOrDefaultAsync(r => r.Id == roleId, cancellationToken)) is null)
        {
            errors.Add("roleId", $"No role with id '{roleId}'.");
        }

        Department? scope = null;
        if (input.DepartmentId is { } departmentId && (scope = await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == departmentId, cancellationToken)) is null)
        {
            errors.Add("departmentId", $"No department with id '{departmentId}'.");
        }

        // Instants are kept in UTC: an offset such as +08:00 is the same instant, and PostgreSQL's timestamptz takes UTC only.
        var from = input.ValidFrom?.ToUniversalTime() ?? now;
        var validUntil = input.ValidUntil?.ToUniversalTime();
        if (validUntil is { } until)
        {
            if (until <= from)
            {
                errors.Add("validUntil", "'Valid until' must be after 'valid from'.", "assignment.untilBeforeFrom");
            }
            else if (until <= now)
            {
                errors.Add("validUntil", "'Valid until' is already in the past.");
            }
        }

        if (string.IsNullOrWhiteSpace(input.Reason))
        {
            errors.Add("reason", "Say why the role is granted; the reason is kept with the assignment.");
        }
        else if (input.Reason.Trim().Length > RoleAssignment.ReasonMaxLength)
        {
            errors.Add("reason", $"The reason may have up to {RoleAssignment.ReasonMaxLength} characters.");
        }

        errors.ThrowIfAny();
        await EnsureDelegatedAsync(role!, scope, user!, cancellationToken);

        var candidate = new AssignmentView(Guid.CreateVersion7(), user!.Id, role!.Id, role.Name, role.DisplayName, role.Permissions.Select(p => p.PermissionId).ToHashSet(),
            scope?.Path, scope?.Name, from, validUntil);
        var assignment = new RoleAssignment
        {
            Id = candidate.Id,
            UserId = user.Id,
            RoleId = role.Id,
            DepartmentId = scope?.Id,
            ValidFrom = from,
            ValidUntil = validUntil,
            Reason = input.Reason!.Trim(),
            GrantedBy = actor.Value.Display,
            GrantedAt = now,
            UpdatedAt = now,
        };
        await db.InTransactionAsync(async () =>
        {
            // Two grants for one user, or a grant and an edit of a role the user holds, must not both pass the checks
            // below: the audit head's lock, taken first, holds every other audited change back until commit.
            await audit.SerializeAsync(cancellationToken);
            var same = await SeparationOfDuty.LoadViewsAsync(
                db.RoleAssignments.Where(a => a.UserId == user.Id && a.RoleId == role.Id && a.DepartmentId == input.DepartmentId && a.EndedAt == null), cancellationToken);
            if (same.FirstOrDefault(s => s.Meets(candidate) && s.ScopePath == candidate.ScopePath) is { } duplicate)
            {
                throw RuleViolation.Field("roleId", $"'{user.UserName}' already holds {duplicate.Described} in an overlapping period.", ViolationKind.Conflict,
                    new RuleMessage("assignment.duplicate", [user.UserName ?? user.Id, duplicate.RoleLabel, AssignmentWording.Scope(duplicate.ScopeName), AssignmentWording.Window(duplicate.From, duplicate.Until)])
                    {
                        Phrases = new Dictionary<int, RuleMessage> { [2] = AssignmentWording.ScopePhrase(duplicate.ScopeName), [3] = AssignmentWording.WindowPhrase(duplicate.From, duplicate.Until) },
                    });
            }

            await separation.EnsureAllowedAsync(candidate, cancellationToken);
            db.RoleAssignments.Add(assignment);
            await audit.RecordAsync("assignment.granted", "user", user.Id, null, AssignmentSnapshot.Of(assignment, role.Name), cancellationToken);
            // A grant that starts later is pushed when it starts; the state is computed at send time.
            var applications = await RoleApplications.OfRoleAsync(db, role.Id, role.ApplicationId, cancellationToken);
            await changes.AssignmentChangedAsync(user.Id, applications, "assignment.granted", cancellationToken, dueAt: from);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return assignment;
    }

    public Task<RoleAssignment> EndAsync(Guid id, string? reason, CancellationToken cancellationToken) =>
        EndAsync(id, reason, expectedRevision: null, cancellationToken);

    /// <summary>Ends an assignment now; a stale <paramref name="expectedRevision"/> (the caller read an older version) is refused.</summary>
    public async Task<RoleAssignment> EndAsync(Guid id, string? reason, long? expectedRevision, CancellationToken cancellationToken)
    {
        var assignment = await db.RoleAssignments.Include(a => a.Role).Include(a => a.Department).SingleOrDefaultAsync(a => a.Id == id, cancellationToken)
            ?? throw RuleViolation.NotFound("assignment", id);
        Revision.Check("assignment", assignment.UpdatedAt, expectedRevision);
        if (assignment.EndedAt is not null)
        {
            var role = AssignmentWording.Role(assignment.Role!.Name, assignment.Role.DisplayName);
            var scope = assignment.Department?.Name;
            var ended = AssignmentWording.Moment(assignment.EndedAt.Value);
            var message = $"The assignment of role '{role}' ({AssignmentWording.Scope(scope)}) already ended on {ended} UTC.";
            var code = new RuleMessage("assignment.alreadyEnded", [role, AssignmentWording.Scope(scope), ended])
            {
                Phrases = new Dictionary<int, RuleMessage> { [1] = AssignmentWording.ScopePhrase(scope) },
            };
            throw new RuleViolation(ViolationKind.Conflict, message, codes: new Dictionary<string, RuleMessage>(StringComparer.Ordinal) { [message] = code });
        }

        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == assignment.UserId, cancellationToken);
        await EnsureDelegatedAsync(assignment.Role!, assignment.Department, user, cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            await EndOneAsync(assignment, reason, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return assignment;
    }

    /// <summary>Ends every assignment the user still has (they left); joins the caller's transaction.</summary>
    public async Task<int> EndAllForUserAsync(string userId, string reason, CancellationToken cancellationToken)
    {
        var open = await db.RoleAssignments.Include(a => a.Role).Where(a => a.UserId == userId && a.EndedAt == null).ToListAsync(cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            foreach (var assignment in open)
            {
                await EndOneAsync(assignment, reason, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return open.Count;
    }

    private async Task EndOneAsync(RoleAssignment assignment, string? reason, CancellationToken cancellationToken)
    {
        var before = AssignmentSnapshot.Of(assignment, assignment.Role!.Name);
        var now = Revision.Now(clock);
        assignment.EndedAt = now;
        assignment.EndedBy = actor.Value.Display;
        assignment.EndReason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim()[..Math.Min(reason.Trim().Length, RoleAssignment.ReasonMaxLength)];
        assignment.UpdatedAt = Revision.After(assignment.UpdatedAt, clock);
        await audit.RecordAsync("assignment.ended", "user", assignment.UserId, before, AssignmentSnapshot.Of(assignment, assignment.Role.Name), cancellationToken);
        var applications = await RoleApplications.OfRoleAsync(db, assignment.RoleId, assignment.Role.ApplicationId, cancellationToken);
        await changes.AssignmentChangedAsync(assignment.UserId, applications, "assignment.ended", cancellationToken);
        await revocation.RevokeAsync(assignment.UserId, applications, cancellationToken);
    }

    /// <summary>
    /// Delegated administration: HR administrators handle delegable roles, scoped inside the subtrees they
    /// administer, of people in those subtrees, and never their own.
    /// </summary>
    private async Task EnsureDelegatedAsync(Role role, Department? scope, UserAccount user, CancellationToken cancellationToken)
    {
        var who = actor.Value;
        if (who.IsSuperAdmin)
        {
            return;
        }

        if (!who.Holds(AdminRoles.HrAdmin))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators and HR administrators may grant or end roles.", "delegation.assignmentsOnly");
        }

        delegation.EnsureNotSelf(user.Id);
        if (!role.Delegable)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, $"Role '{role.Name}' is not delegable; only a super administrator may grant or end it.",
                "delegation.notDelegable", role.Name);
        }

        if (scope is null)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "HR administrators grant roles scoped to a department they administer, not everywhere.",
                "delegation.scopeEverywhere");
        }

        await delegation.EnsureInsideAsync(scope, field: null, cancellationToken);
        await delegation.EnsureUserInsideAsync(user, cancellationToken);
    }
}

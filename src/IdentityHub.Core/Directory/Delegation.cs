using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Directory;

/// <summary>
/// Delegated administration of the directory (issue 6): a super administrator changes anything; an HR
/// administrator changes departments and people only inside the department subtrees they administer, and
/// never the status, user name or admin roles of another administrator. Every directory write asks here first.
/// </summary>
public sealed class Delegation(IdentityHubDbContext db, UserManager<UserAccount> users, CurrentActor actor)
{
    private List<string>? _administeredPaths;

    public Actor Actor => actor.Value;

    /// <summary>Refuses anyone who is neither a super nor an HR administrator (the API and console refuse them earlier too).</summary>
    public void EnsureDirectoryAdministrator()
    {
        if (!Actor.IsSuperAdmin && !Actor.Holds(AdminRoles.HrAdmin))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden,
                "Only super administrators and HR administrators may change departments and users.", "delegation.directoryOnly");
        }
    }

    /// <summary>
    /// The department (a parent, a move target, a user's department) must lie inside a subtree the actor
    /// administers; <c>null</c> (the top level, or no department) is for super administrators only.
    /// </summary>
    public async Task EnsureInsideAsync(Department? department, string? field, CancellationToken cancellationToken)
    {
        EnsureDirectoryAdministrator();
        if (Actor.IsSuperAdmin)
        {
            return;
        }

        if (department is null)
        {
            throw Refusal(field,
                "HR administrators work inside the departments they administer; the top level (no department) is for a super administrator.",
                "delegation.topLevel");
        }

        if (!await AdministersAsync(department.Path, cancellationToken))
        {
            throw Refusal(field, $"Department '{department.Name}' is outside the departments you administer.", "delegation.departmentOutside", department.Name);
        }
    }

    /// <inheritdoc cref="EnsureInsideAsync(Department?, string?, CancellationToken)"/>
    public async Task EnsureInsideAsync(Guid? departmentId, string? field, CancellationToken cancellationToken)
    {
        if (Actor.IsSuperAdmin)
        {
            return;
        }

        var department = departmentId is { } id ? await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken) : null;
        await EnsureInsideAsync(department, field, cancellationToken);
    }

    /// <summary>The user must belong to a department inside a subtree the actor administers.</summary>
    public async Task EnsureUserInsideAsync(UserAccount user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        EnsureDirectoryAdministrator();
        if (Actor.IsSuperAdmin)
        {
            return;
        }

        var department = user.DepartmentId is { } id ? await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken) : null;
        if (department is null || !await AdministersAsync(department.Path, cancellationToken))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden,
                $"'{user.UserName}' is {(department is null ? "in no department" : $"in department '{department.Name}'")}, outside the departments you administer.",
                "delegation.userOutside", user.UserName ?? user.Id);
        }
    }

    /// <summary>Only a super administrator changes the status, user name or admin roles of someone who holds an admin role.</summary>
    public async Task EnsureMayManageAdministratorAsync(UserAccount user, string change)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (Actor.IsSuperAdmin || !await HoldsAdminRoleAsync(user))
        {
            return;
        }

        throw RuleViolation.Coded(ViolationKind.Forbidden,
            $"'{user.UserName}' is an administrator; only a super administrator may change their {change}.", "delegation.administrator", user.UserName ?? user.Id);
    }

    /// <summary>Nobody but a super administrator grants or ends roles of their own.</summary>
    public void EnsureNotSelf(string userId)
    {
        if (!Actor.IsSuperAdmin && string.Equals(userId, Actor.Id, StringComparison.Ordinal))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "You cannot grant or end roles of your own; ask another administrator.", "delegation.self");
        }
    }

    public async Task<bool> HoldsAdminRoleAsync(UserAccount user) => (await users.GetRolesAsync(user)).Any(AdminRoles.All.Contains);

    private async Task<bool> AdministersAsync(string path, CancellationToken cancellationToken)
    {
        _administeredPaths ??= Actor.SubtreePaths?.ToList() ?? await db.AdministeredDepartments.AsNoTracking().Where(a => a.UserId == Actor.Id)
            .Select(a => a.Department!.Path).ToListAsync(cancellationToken);
        return _administeredPaths.Exists(administered => path.StartsWith(administered, StringComparison.Ordinal));
    }

    private static RuleViolation Refusal(string? field, string message, string code, params string[] arguments) =>
        field is null
            ? RuleViolation.Coded(ViolationKind.Forbidden, message, code, arguments)
            : RuleViolation.Field(field, message, ViolationKind.Forbidden, code, arguments);
}

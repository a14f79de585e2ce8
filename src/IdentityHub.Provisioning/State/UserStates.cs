using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Provisioning.Connectors;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.State;

/// <summary>
/// Builds a user's whole state for one application from the database at send time (state-based delivery):
/// whatever rows were queued, what goes out is what is true now.
/// </summary>
public sealed class UserStates(IdentityHubDbContext db, EffectiveEntitlements entitlements)
{
    /// <summary>The state with <see cref="ProvisionedUser.Version"/> 0; <see cref="StateVersions"/> assigns the version.</summary>
    public async Task<ProvisionedUser> BuildAsync(Guid applicationId, string userId, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new
            {
                u.UserName,
                u.DisplayName,
                u.Email,
                u.PhoneNumber,
                u.EmployeeNumber,
                u.Status,
                DepartmentCode = u.Department == null ? null : u.Department.Code,
                DepartmentName = u.Department == null ? null : u.Department.Name,
                u.ManagerId,
                ManagerEmployeeNumber = db.Users.Where(m => m.Id == u.ManagerId).Select(m => m.EmployeeNumber).FirstOrDefault(),
            })
            .SingleOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            // Deleted from IdentityHub: the downstream system removes it.
            return new ProvisionedUser(userId, "", "", null, null, null, null, null, null, null, Active: false, Exists: false, [], [], 0);
        }

        var access = await entitlements.ForApplicationAsync(userId, applicationId, cancellationToken);
        var grants = await entitlements.ExplainAsync(userId, applicationId, cancellationToken);
        var departmentIds = grants.Where(g => g.DepartmentId is not null).Select(g => g.DepartmentId!.Value).Distinct().ToList();
        var scopes = await ScopesAsync(departmentIds, cancellationToken);
        var permissions = grants
            .Select(g => new ProvisionedPermission(
                g.Permission,
                new SortedDictionary<string, string>(g.Parameters.ToDictionary(), StringComparer.Ordinal),
                g.DepartmentId is { } id ? scopes.GetValueOrDefault(id).Code : null,
                g.DepartmentId is { } scoped ? scopes.GetValueOrDefault(scoped).Path ?? g.DepartmentName : null))
            // One entry per distinct (permission, parameters, scope): two roles granting the same thing are one right downstream.
            .DistinctBy(p => (p.Name, p.DepartmentCode, string.Join('\u001f', p.Parameters.Select(kv => kv.Key + "=" + kv.Value))))
            .ToList();

        return new ProvisionedUser(
            userId,
            user.UserName ?? "",
            user.DisplayName,
            user.Email,
            user.PhoneNumber,
            user.EmployeeNumber,
            user.DepartmentCode,
            user.DepartmentName,
            user.ManagerId,
            user.ManagerEmployeeNumber,
            Active: user.Status == UserStatus.Active,
            Exists: true,
            access.Roles,
            permissions,
            0)
        {
            Left = user.Status == UserStatus.Left,
        };
    }

    /// <summary>
    /// Each scope department's code and its place in the tree ("Company / Sales / East"): a scoped right reads the
    /// same downstream wherever it is shown, and moving a department changes it, so the move reaches the targets.
    /// </summary>
    private async Task<Dictionary<Guid, (string Code, string? Path)>> ScopesAsync(List<Guid> departmentIds, CancellationToken cancellationToken)
    {
        if (departmentIds.Count == 0)
        {
            return [];
        }

        var scoped = await db.Departments.AsNoTracking().Where(d => departmentIds.Contains(d.Id)).Select(d => new { d.Id, d.Code, d.Path }).ToListAsync(cancellationToken);
        var ancestorIds = scoped.SelectMany(d => d.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)).Select(Guid.Parse).Distinct().ToList();
        var names = await db.Departments.AsNoTracking().Where(d => ancestorIds.Contains(d.Id)).ToDictionaryAsync(d => d.Id, d => d.Name, cancellationToken);
        return scoped.ToDictionary(
            d => d.Id,
            d => (d.Code, (string?)string.Join(" / ", d.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse).Select(id => names.GetValueOrDefault(id) ?? "?"))));
    }
}

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
    public async Task<ProvisionedUser> BuildAsync(Guid applicationId, string userId, CancellationToken cancellationToken) =>
        (await BuildAsync(applicationId, [userId], cancellationToken))[userId];

    /// <summary>
    /// The states of many users (a batch of deliveries), each as <see cref="BuildAsync(Guid, string, CancellationToken)"/>
    /// builds it, in a fixed number of queries whatever their count.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, ProvisionedUser>> BuildAsync(Guid applicationId, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var users = await db.Users.AsNoTracking()
            .Where(u => userIds.Contains(u.Id))
            .Select(u => new
            {
                u.Id,
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
            .ToDictionaryAsync(u => u.Id, StringComparer.Ordinal, cancellationToken);
        var existing = userIds.Where(users.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
        var access = existing.Count == 0 ? new Dictionary<string, Entitlements>() : await entitlements.ForApplicationAsync(existing, applicationId, cancellationToken);
        var grants = existing.Count == 0 ? new Dictionary<string, IReadOnlyList<EntitlementGrant>>() : await entitlements.ExplainAsync(existing, applicationId, cancellationToken);
        var departmentIds = grants.Values.SelectMany(g => g).Where(g => g.DepartmentId is not null).Select(g => g.DepartmentId!.Value).Distinct().ToList();
        var scopes = await ScopesAsync(departmentIds, cancellationToken);
        var states = new Dictionary<string, ProvisionedUser>(StringComparer.Ordinal);
        foreach (var userId in userIds)
        {
            if (!users.TryGetValue(userId, out var user))
            {
                // Deleted from IdentityHub: the downstream system removes it.
                states[userId] = new ProvisionedUser(userId, "", "", null, null, null, null, null, null, null, Active: false, Exists: false, [], [], 0);
                continue;
            }

            var permissions = grants[userId]
                .Select(g => new ProvisionedPermission(
                    g.Permission,
                    new SortedDictionary<string, string>(g.Parameters.ToDictionary(), StringComparer.Ordinal),
                    g.DepartmentId is { } id ? scopes.GetValueOrDefault(id).Code : null,
                    g.DepartmentId is { } scoped ? scopes.GetValueOrDefault(scoped).Path ?? g.DepartmentName : null))
                // One entry per distinct (permission, parameters, scope): two roles granting the same thing are one right downstream.
                .DistinctBy(p => (p.Name, p.DepartmentCode, string.Join('\u001f', p.Parameters.Select(kv => kv.Key + "=" + kv.Value))))
                .ToList();
            states[userId] = new ProvisionedUser(
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
                access[userId].Roles,
                permissions,
                0)
            {
                Left = user.Status == UserStatus.Left,
            };
        }

        return states;
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

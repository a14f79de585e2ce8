using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

/// <summary>
/// The applications whose rights a role makes up, as <see cref="EffectiveEntitlements"/> counts them: an application
/// role's own application; for a global role the applications of its permissions, or every application when it
/// grants nothing (a plain label, which counts as a role everywhere). Its holders' changes go to these.
/// </summary>
public static class RoleApplications
{
    /// <summary>The role's applications as the database has them (before this transaction's unsaved edits).</summary>
    public static async Task<IReadOnlyList<Guid>> OfRoleAsync(IdentityHubDbContext db, Guid roleId, Guid? applicationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (applicationId is { } id)
        {
            return [id];
        }

        var permissions = await db.AccessRoles.Where(r => r.Id == roleId).SelectMany(r => r.Permissions).Select(p => p.PermissionId).ToListAsync(cancellationToken);
        return await OfGlobalPermissionsAsync(db, permissions, cancellationToken);
    }

    /// <summary>The applications of a global role holding exactly <paramref name="permissionIds"/>.</summary>
    public static async Task<IReadOnlyList<Guid>> OfGlobalPermissionsAsync(IdentityHubDbContext db, IReadOnlyCollection<Guid> permissionIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(permissionIds);
        return permissionIds.Count == 0
            ? await db.Applications.Select(a => a.Id).ToListAsync(cancellationToken)
            : await db.Permissions.Where(p => permissionIds.Contains(p.Id)).Select(p => p.ApplicationId).Distinct().ToListAsync(cancellationToken);
    }
}

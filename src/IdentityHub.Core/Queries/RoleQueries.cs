using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>Which roles a list shows: one application's, the global ones, the delegable ones, those bundling a permission, and a free-text search.</summary>
public sealed record RoleFilter(Guid? ApplicationId = null, bool Global = false, bool? Delegable = null, string? Search = null, Guid? PermissionId = null);

/// <summary>
/// Reads of roles shared by the console and the admin API: each role with its permissions, and for lists the names
/// people read (the application's name, each permission's name).
/// </summary>
public sealed class RoleQueries(IdentityHubDbContext db)
{
    public Task<Role?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        db.AccessRoles.AsNoTracking().Include(r => r.Permissions).SingleOrDefaultAsync(r => r.Id == id, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => db.AccessRoles.CountAsync(cancellationToken);

    /// <summary>The roles the filter picks, each with its permissions; unordered, for the caller's sort.</summary>
    public IQueryable<Role> Find(RoleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.AccessRoles.AsNoTracking().Include(r => r.Permissions).AsQueryable();
        if (filter.ApplicationId is { } application)
        {
            query = query.Where(r => r.ApplicationId == application);
        }
        else if (filter.Global)
        {
            query = query.Where(r => r.ApplicationId == null);
        }

        if (filter.Delegable is { } delegable)
        {
            query = query.Where(r => r.Delegable == delegable);
        }

        if (filter.PermissionId is { } permission)
        {
            query = query.Where(r => r.Permissions.Any(p => p.PermissionId == permission));
        }

        return query.WhereAnyContains(filter.Search, r => r.Name, r => r.DisplayName, r => r.Description);
    }

    /// <summary>The roles the filter picks with their application and permission names, global ones first, then by application and role.</summary>
    public async Task<IReadOnlyList<Role>> ListAsync(RoleFilter filter, CancellationToken cancellationToken)
    {
        var roles = await Find(filter).Include(r => r.Application).Include(r => r.Permissions).ThenInclude(p => p.Permission)
            .ToListAsync(cancellationToken);
        return [.. roles.OrderBy(r => r.Application?.Name, StringComparer.CurrentCulture).ThenBy(r => r.Name, StringComparer.CurrentCulture)];
    }
}

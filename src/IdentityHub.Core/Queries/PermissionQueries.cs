using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>Reads of an application's permissions shared by the console and the admin API.</summary>
public sealed class PermissionQueries(IdentityHubDbContext db)
{
    public Task<Permission?> GetAsync(Guid applicationId, Guid id, CancellationToken cancellationToken) =>
        db.Permissions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id && p.ApplicationId == applicationId, cancellationToken);

    public Task<bool> ExistsAsync(Guid applicationId, Guid id, CancellationToken cancellationToken) =>
        db.Permissions.AnyAsync(p => p.Id == id && p.ApplicationId == applicationId, cancellationToken);

    /// <summary>The application's permissions whose name or description contains <paramref name="search"/> (all when null).</summary>
    public IQueryable<Permission> Find(Guid applicationId, string? search = null) =>
        db.Permissions.AsNoTracking().Where(p => p.ApplicationId == applicationId).WhereAnyContains(search, p => p.Name, p => p.Description);

    /// <summary>Every application's permissions with their application, by application name then name: what a global role may bundle.</summary>
    public async Task<IReadOnlyList<Permission>> ListWithApplicationsAsync(CancellationToken cancellationToken) =>
        await db.Permissions.AsNoTracking().Include(p => p.Application).OrderBy(p => p.Application!.Name).ThenBy(p => p.Name).ToListAsync(cancellationToken);

    /// <summary>The application's permissions by name.</summary>
    public async Task<IReadOnlyList<Permission>> ListAsync(Guid applicationId, CancellationToken cancellationToken) =>
        await Find(applicationId).OrderBy(p => p.Name).ToListAsync(cancellationToken);
}

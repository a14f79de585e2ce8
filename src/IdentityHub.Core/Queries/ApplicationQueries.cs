using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>An application as the console lists it: with how many permissions and roles it has.</summary>
public sealed record ApplicationRow(Application Application, int Permissions, int Roles);

/// <summary>Reads of applications shared by the console and the admin API (nothing here writes).</summary>
public sealed class ApplicationQueries(IdentityHubDbContext db)
{
    public Task<Application?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);

    public Task<bool> ExistsAsync(Guid id, CancellationToken cancellationToken) =>
        db.Applications.AnyAsync(a => a.Id == id, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => db.Applications.CountAsync(cancellationToken);

    /// <summary>Applications whose name or description contains <paramref name="search"/> (all when null), by name.</summary>
    public IQueryable<Application> Find(string? search = null) =>
        db.Applications.AsNoTracking().WhereAnyContains(search, a => a.Name, a => a.Description).OrderBy(a => a.Name).ThenBy(a => a.Id);

    /// <summary>One page (from 1) of <see cref="Find"/>, with the total.</summary>
    public async Task<(IReadOnlyList<Application> Items, int Total)> PageAsync(int page, int pageSize, string? search, CancellationToken cancellationToken)
    {
        var query = Find(search);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return (items, total);
    }

    /// <summary>Every application by name, with its permission and role counts.</summary>
    public async Task<IReadOnlyList<ApplicationRow>> ListAsync(CancellationToken cancellationToken) =>
        await Find()
            .Select(a => new ApplicationRow(a, db.Permissions.Count(p => p.ApplicationId == a.Id), db.AccessRoles.Count(r => r.ApplicationId == a.Id)))
            .ToListAsync(cancellationToken);
}

using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Queries;

/// <summary>Which people a list shows: a free-text search, a status, a department with its subtree.</summary>
public sealed record UserFilter(string? Search = null, UserStatus? Status = null, Guid? DepartmentId = null);

/// <summary>A person with the names of their department and manager (<see cref="UserAccount.Department"/> is loaded).</summary>
public sealed record UserView(UserAccount Account, string? ManagerName)
{
    public string? DepartmentName => Account.Department?.Name;
}

/// <summary>How a person is named: the display name people read, the user name beside it.</summary>
public sealed record PersonName(string Id, string DisplayName, string? UserName);

/// <summary>A person's sign-in state: browser sessions that took part in a sign-in, and tokens still valid.</summary>
public sealed record UserSessions(int BrowserSessions, int ActiveTokens);

/// <summary>Where a person came from: the inbound source, the source's id for them, what the source owns of them, and a manager still awaited.</summary>
public sealed record UserOrigin(Guid SourceId, string SourceName, string? ExternalId, IReadOnlySet<string> Owned, string? PendingManager);

/// <summary>Reads of people shared by the console and the admin API (nothing here writes).</summary>
public sealed class UserQueries(IdentityHubDbContext db)
{
    /// <summary>The person with their department, and their manager's display name; null when there is no such person.</summary>
    public async Task<UserView?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var row = await db.Users.AsNoTracking().Include(u => u.Department).Where(u => u.Id == id)
            .Select(u => new { Account = u, Manager = db.Users.Where(m => m.Id == u.ManagerId).Select(m => m.DisplayName).FirstOrDefault() })
            .SingleOrDefaultAsync(cancellationToken);
        return row is null ? null : new UserView(row.Account, row.Manager);
    }

    /// <summary>The source <paramref name="user"/> came from, or null when they are administered in IdentityHub.</summary>
    public async Task<UserOrigin?> OriginAsync(UserAccount user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.SourceId is not { } sourceId)
        {
            return null;
        }

        var source = await db.InboundSources.AsNoTracking().Where(s => s.Id == sourceId)
            .Select(s => new { s.Name, s.OwnedAttributes }).SingleOrDefaultAsync(cancellationToken);
        return source is null ? null
            : new UserOrigin(sourceId, source.Name, user.ExternalId, Inbound.SourceAttributes.Parse(source.OwnedAttributes), user.PendingManagerRef);
    }

    public Task<bool> ExistsAsync(string id, CancellationToken cancellationToken) => db.Users.AnyAsync(u => u.Id == id, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => db.Users.CountAsync(cancellationToken);

    /// <summary>
    /// The people the filter picks, with their department, unordered for the caller's sort. The search matches display
    /// name, user name, email and employee number, ignoring case. Null when the filter names a department that does not exist.
    /// </summary>
    public async Task<IQueryable<UserAccount>?> FindAsync(UserFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = db.Users.AsNoTracking().Include(u => u.Department)
            .WhereAnyContains(filter.Search, u => u.DisplayName, u => u.UserName, u => u.Email, u => u.EmployeeNumber);
        if (filter.Status is { } status)
        {
            query = query.Where(u => u.Status == status);
        }

        if (filter.DepartmentId is { } departmentId)
        {
            var path = await db.Departments.Where(d => d.Id == departmentId).Select(d => d.Path).SingleOrDefaultAsync(cancellationToken);
            if (path is null)
            {
                return null;
            }

            // The materialized path sorts a subtree under its root's path.
            query = query.Where(u => u.Department != null && u.Department.Path.StartsWith(path));
        }

        return query;
    }

    /// <summary>One page (from 1) of <see cref="FindAsync"/> by user name, with the total (nothing when the department does not exist).</summary>
    public async Task<(IReadOnlyList<UserAccount> Items, int Total)> PageAsync(UserFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        if (await FindAsync(filter, cancellationToken) is not { } query)
        {
            return ([], 0);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(u => u.UserName).Skip((Math.Max(1, page) - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return (items, total);
    }

    /// <summary>The people who may be granted a role (everyone who has not left), by user name.</summary>
    public async Task<IReadOnlyList<UserAccount>> AssignableAsync(CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().Where(u => u.Status != UserStatus.Left).OrderBy(u => u.UserName).ToListAsync(cancellationToken);

    /// <summary>The display and user names of <paramref name="ids"/> (unknown ids are left out).</summary>
    public async Task<IReadOnlyDictionary<string, PersonName>> NamesAsync(IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var wanted = ids.Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return new Dictionary<string, PersonName>();
        }

        return await db.Users.AsNoTracking().Where(u => wanted.Contains(u.Id))
            .Select(u => new PersonName(u.Id, u.DisplayName, u.UserName)).ToDictionaryAsync(p => p.Id, StringComparer.Ordinal, cancellationToken);
    }

    /// <summary>
    /// The person <paramref name="text"/> names exactly: their id, user name or employee number (ignoring case), else the
    /// only person whose display name it is; null when none or several.
    /// </summary>
    public async Task<UserAccount?> FindOneAsync(string text, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var value = text.Trim();
        var upper = value.ToUpperInvariant();
        var exact = await db.Users.AsNoTracking()
            .Where(Search.AnyOf<UserAccount>([u => u.Id == value, u => u.NormalizedUserName == upper, Search.EqualsText<UserAccount>(u => u.EmployeeNumber, value)]))
            .Take(2).ToListAsync(cancellationToken);
        if (exact.Count == 1)
        {
            return exact[0];
        }

        var named = await db.Users.AsNoTracking().Where(Search.EqualsText<UserAccount>(u => u.DisplayName, value)).Take(2).ToListAsync(cancellationToken);
        return exact.Count == 0 && named.Count == 1 ? named[0] : null;
    }

    /// <summary>The departments whose subtrees the person administers (HR administrators).</summary>
    public async Task<IReadOnlyList<Guid>> AdministeredDepartmentsAsync(string id, CancellationToken cancellationToken) =>
        await db.AdministeredDepartments.AsNoTracking().Where(a => a.UserId == id).Select(a => a.DepartmentId).ToListAsync(cancellationToken);

    public async Task<UserSessions> SessionsAsync(string id, CancellationToken cancellationToken)
    {
        var sessions = await db.UserSessions.CountAsync(s => s.UserId == id && s.EndedAt == null, cancellationToken);
        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .CountAsync(t => t.Subject == id && t.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
        return new UserSessions(sessions, tokens);
    }
}

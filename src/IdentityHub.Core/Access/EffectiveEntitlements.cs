using System.Globalization;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

/// <summary>What a user may do in one application: role names and permission names.</summary>
public sealed record Entitlements(IReadOnlyList<string> Roles, IReadOnlyList<string> Permissions)
{
    public static Entitlements None { get; } = new([], []);
}

/// <summary>One permission a user holds, and why: which assignment of which role, where, from and until when.</summary>
public sealed record EntitlementGrant(
    Guid ApplicationId, string ApplicationName, string Permission, IReadOnlyDictionary<string, string> Parameters, Guid RoleId, string RoleName,
    Guid AssignmentId, Guid? DepartmentId, string? DepartmentName, DateTimeOffset? ValidUntil, string? RoleDisplayName, DateTimeOffset ValidFrom)
{
    /// <summary>The role as people read it: its display name with the key, or the key.</summary>
    public string RoleLabel => AssignmentWording.Role(RoleName, RoleDisplayName);

    /// <summary>The assignment named by role, scope and dates (its id is <see cref="AssignmentId"/>, for machines).</summary>
    public string Reason => string.Create(CultureInfo.InvariantCulture,
        $"granted by role '{RoleLabel}', {(DepartmentName is null ? "everywhere" : $"scoped to department '{DepartmentName}'")}, {(ValidUntil is { } until ? $"from {AssignmentWording.Day(ValidFrom)} until {AssignmentWording.Moment(until)} UTC" : $"from {AssignmentWording.Day(ValidFrom)}, with no end date")}");
}

/// <summary>
/// The one computation of a user's rights: the permissions of their currently valid assignments. Tokens,
/// SAML attributes, provisioning payloads and the console's "why" view all read it. Users who are not
/// active hold nothing.
/// </summary>
public sealed class EffectiveEntitlements(IdentityHubDbContext db, TimeProvider clock)
{
    /// <summary>The rights of a user in the application that owns the OIDC client <paramref name="clientId"/>.</summary>
    public async Task<Entitlements> ForClientAsync(string userId, string clientId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        var applicationId = await db.Applications.Where(a => a.OidcClientId == clientId).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
        return applicationId is { } id ? await ForApplicationAsync(userId, id, cancellationToken) : Entitlements.None;
    }

    /// <summary>Role names (the application's and global ones) and the application's permission names.</summary>
    public async Task<Entitlements> ForApplicationAsync(string userId, Guid applicationId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var held = await ActiveAssignments(userId, now)
            .Where(RoleAssignment.GrantsIn(applicationId))
            .Select(a => new
            {
                Role = a.Role!.Name,
                Permissions = a.Role.Permissions.Where(p => p.Permission!.ApplicationId == applicationId).Select(p => p.Permission!.Name).ToList(),
            })
            .ToListAsync(cancellationToken);
        var roles = held.Select(h => h.Role).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var permissions = held.SelectMany(h => h.Permissions).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new Entitlements(roles, permissions);
    }

    /// <summary>
    /// <see cref="ForApplicationAsync(string, Guid, CancellationToken)"/> for many users in one query (a provisioning burst
    /// builds the states of a batch of users at once); a user who holds nothing gets <see cref="Entitlements.None"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, Entitlements>> ForApplicationAsync(
        IReadOnlyCollection<string> userIds, Guid applicationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var now = clock.GetUtcNow();
        var held = await ActiveAssignments(userIds, now)
            .Where(RoleAssignment.GrantsIn(applicationId))
            .Select(a => new
            {
                a.UserId,
                Role = a.Role!.Name,
                Permissions = a.Role.Permissions.Where(p => p.Permission!.ApplicationId == applicationId).Select(p => p.Permission!.Name).ToList(),
            })
            .ToListAsync(cancellationToken);
        var byUser = held.ToLookup(h => h.UserId, StringComparer.Ordinal);
        return userIds.Distinct(StringComparer.Ordinal).ToDictionary(
            id => id,
            id => byUser[id].Any()
                ? new Entitlements(
                    [.. byUser[id].Select(h => h.Role).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)],
                    [.. byUser[id].SelectMany(h => h.Permissions).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)])
                : Entitlements.None,
            StringComparer.Ordinal);
    }

    /// <summary>
    /// The applications in which the user holds anything now: the application's own roles, and global roles that grant
    /// one of its permissions (<see cref="RoleAssignment.GrantsIn"/>, the rule <see cref="ForApplicationAsync"/> reads).
    /// </summary>
    public async Task<IReadOnlySet<Guid>> ApplicationsHeldAsync(string userId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var held = await ActiveAssignments(userId, now)
            .Select(a => new
            {
                Own = a.Role!.ApplicationId,
                Granted = a.Role.ApplicationId == null ? a.Role.Permissions.Select(p => p.Permission!.ApplicationId).ToList() : new List<Guid>(),
            })
            .ToListAsync(cancellationToken);
        return held.SelectMany(h => h.Own is { } own ? [own] : h.Granted).ToHashSet();
    }

    /// <summary>Every permission the user holds now (in one application, or all), each with the assignment that grants it.</summary>
    public async Task<IReadOnlyList<EntitlementGrant>> ExplainAsync(string userId, Guid? applicationId, CancellationToken cancellationToken) =>
        (await ExplainAsync([userId], applicationId, cancellationToken))[userId];

    /// <summary>
    /// Every permission each of the users holds now (in one application, or all), each with the assignment that grants it,
    /// in one query: per user ordered by application, permission and role; a user who holds nothing gets an empty list.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<EntitlementGrant>>> ExplainAsync(
        IReadOnlyCollection<string> userIds, Guid? applicationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var now = clock.GetUtcNow();
        var rows = await ActiveAssignments(userIds, now)
            .SelectMany(a => a.Role!.Permissions, (a, p) => new
            {
                a.UserId,
                p.Permission!.ApplicationId,
                ApplicationName = p.Permission.Application!.Name,
                Permission = p.Permission.Name,
                Defaults = p.Permission.Parameters,
                Overrides = p.Parameters,
                a.RoleId,
                RoleName = a.Role!.Name,
                RoleDisplayName = a.Role.DisplayName,
                AssignmentId = a.Id,
                a.DepartmentId,
                DepartmentName = a.Department == null ? null : a.Department.Name,
                a.ValidFrom,
                a.ValidUntil,
            })
            .Where(r => applicationId == null || r.ApplicationId == applicationId)
            .ToListAsync(cancellationToken);
        var byUser = rows.ToLookup(r => r.UserId, StringComparer.Ordinal);
        return userIds.Distinct(StringComparer.Ordinal).ToDictionary(
            id => id,
            id => (IReadOnlyList<EntitlementGrant>)[.. byUser[id]
                .OrderBy(r => r.ApplicationName, StringComparer.Ordinal).ThenBy(r => r.Permission, StringComparer.Ordinal).ThenBy(r => r.RoleName, StringComparer.Ordinal)
                .Select(r => new EntitlementGrant(r.ApplicationId, r.ApplicationName, r.Permission, Merge(r.Defaults, r.Overrides), r.RoleId, r.RoleName,
                    r.AssignmentId, r.DepartmentId, r.DepartmentName, r.ValidUntil, r.RoleDisplayName, r.ValidFrom))],
            StringComparer.Ordinal);
    }

    private IQueryable<RoleAssignment> ActiveAssignments(string userId, DateTimeOffset now) =>
        from a in db.RoleAssignments.AsNoTracking().Where(RoleAssignment.ActiveAt(now))
        join u in db.Users on a.UserId equals u.Id
        where a.UserId == userId && u.Status == UserStatus.Active
        select a;

    private IQueryable<RoleAssignment> ActiveAssignments(IReadOnlyCollection<string> userIds, DateTimeOffset now) =>
        from a in db.RoleAssignments.AsNoTracking().Where(RoleAssignment.ActiveAt(now))
        join u in db.Users on a.UserId equals u.Id
        where userIds.Contains(a.UserId) && u.Status == UserStatus.Active
        select a;

    private static Dictionary<string, string> Merge(Dictionary<string, string> defaults, Dictionary<string, string> overrides)
    {
        var merged = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            merged[key] = value;
        }

        return merged;
    }
}

using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>
/// One side of a separation-of-duty rule as people read it: a role (its display name with the key) or a permission, and
/// the application it belongs to (none for a global role). <see cref="Kind"/> is <c>role</c> or <c>permission</c>.
/// </summary>
public sealed record SodRuleSide(string Kind, Guid Id, string Name, Guid? ApplicationId, string? ApplicationName);

/// <summary>A rule with both sides named.</summary>
public sealed record SodRuleView(SeparationOfDutyRule Rule, SodRuleSide? First, SodRuleSide? Second);

/// <summary>Reads of separation-of-duty rules shared by the console and the admin API (who breaks one is <see cref="SeparationOfDuty"/>'s).</summary>
public sealed class SodRuleQueries(IdentityHubDbContext db)
{
    public async Task<SodRuleView?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        await db.SeparationOfDutyRules.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken) is { } rule
            ? (await NameAsync([rule], cancellationToken))[0]
            : null;

    /// <summary>Rules whose name or description contains <paramref name="search"/> (all when null), unordered for the caller's sort.</summary>
    public IQueryable<SeparationOfDutyRule> Find(string? search = null) =>
        db.SeparationOfDutyRules.AsNoTracking().WhereAnyContains(search, r => r.Name, r => r.Description);

    /// <summary>Every rule by name, both sides named.</summary>
    public async Task<IReadOnlyList<SodRuleView>> ListAsync(CancellationToken cancellationToken) =>
        await NameAsync(await Find().OrderBy(r => r.Name).ToListAsync(cancellationToken), cancellationToken);

    /// <summary>Names both sides of each rule (in the order given); a side that no longer exists is null.</summary>
    public async Task<IReadOnlyList<SodRuleView>> NameAsync(IReadOnlyList<SeparationOfDutyRule> rules, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var roleIds = rules.SelectMany(r => new[] { r.FirstRoleId, r.SecondRoleId }).OfType<Guid>().Distinct().ToList();
        var permissionIds = rules.SelectMany(r => new[] { r.FirstPermissionId, r.SecondPermissionId }).OfType<Guid>().Distinct().ToList();
        var sides = new Dictionary<Guid, SodRuleSide>();
        foreach (var r in await db.AccessRoles.AsNoTracking().Where(r => roleIds.Contains(r.Id))
            .Select(r => new { r.Id, r.Name, r.DisplayName, r.ApplicationId, Application = r.Application == null ? null : r.Application.Name })
            .ToListAsync(cancellationToken))
        {
            sides[r.Id] = new("role", r.Id, AssignmentWording.Role(r.Name, r.DisplayName), r.ApplicationId, r.Application);
        }

        foreach (var p in await db.Permissions.AsNoTracking().Where(p => permissionIds.Contains(p.Id))
            .Select(p => new { p.Id, p.Name, p.ApplicationId, Application = p.Application!.Name }).ToListAsync(cancellationToken))
        {
            sides[p.Id] = new("permission", p.Id, p.Name, p.ApplicationId, p.Application);
        }

        SodRuleSide? Side(Guid? role, Guid? permission) => (role ?? permission) is { } id ? sides.GetValueOrDefault(id) : null;
        return [.. rules.Select(r => new SodRuleView(r, Side(r.FirstRoleId, r.FirstPermissionId), Side(r.SecondRoleId, r.SecondPermissionId)))];
    }
}

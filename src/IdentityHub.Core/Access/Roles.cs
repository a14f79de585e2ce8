using System.Text.RegularExpressions;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

public sealed record RolePermissionInput(Guid PermissionId, IReadOnlyDictionary<string, string>? Parameters = null);

/// <param name="Name">The key tokens and SAML attributes carry (<c>expense-approver</c>).</param>
/// <param name="DisplayName">What people read ("Finance approver", "财务审批人"); optional.</param>
public sealed record RoleInput(
    Guid? ApplicationId, string? Name, string? Description, bool Delegable, IReadOnlyList<RolePermissionInput>? Permissions, string? DisplayName = null);

public sealed record RoleSnapshot(
    Guid Id, Guid? ApplicationId, string Name, string? DisplayName, string? Description, bool Delegable, IReadOnlyList<RolePermissionInput> Permissions)
{
    public static RoleSnapshot Of(Role r) => new(r.Id, r.ApplicationId, r.Name, r.DisplayName, r.Description, r.Delegable,
        [.. r.Permissions.OrderBy(p => p.PermissionId).Select(p => new RolePermissionInput(p.PermissionId, new Dictionary<string, string>(p.Parameters)))]);
}

/// <summary>Roles: bundles of one application's permissions (or of any, for a global role).</summary>
public sealed partial class Roles(IdentityHubDbContext db, SeparationOfDuty separation, EntitlementChanges changes, AuditTrail audit, TimeProvider clock)
{
    public async Task<Role> CreateAsync(RoleInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var now = Revision.Now(clock);
        var role = new Role { Id = Guid.CreateVersion7(), Name = "", CreatedAt = now, UpdatedAt = now };
        await ApplyAsync(role, input, cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            db.AccessRoles.Add(role);
            await audit.RecordAsync("role.created", "role", role.Id.ToString(), null, RoleSnapshot.Of(role), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return role;
    }

    public async Task<Role> UpdateAsync(Guid id, RoleInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var role = await db.AccessRoles.Include(r => r.Permissions).SingleOrDefaultAsync(r => r.Id == id, cancellationToken)
            ?? throw RuleViolation.NotFound("role", id);
        Revision.Check("role", role.UpdatedAt, expectedRevision);
        if (input.ApplicationId != role.ApplicationId)
        {
            throw RuleViolation.Field("applicationId", "A role cannot move to another application; create a new role instead.", ViolationKind.Invalid, "role.applicationFixed");
        }

        var before = RoleSnapshot.Of(role);
        await ApplyAsync(role, input, cancellationToken);
        role.UpdatedAt = Revision.After(role.UpdatedAt, clock);
        await db.InTransactionAsync(async () =>
        {
            // A new permission in the bundle must not hand a forbidden pair to someone who already holds the role, nor
            // to someone being granted a conflicting role at this moment: the audit head's lock serialises the two.
            await audit.SerializeAsync(cancellationToken);
            await separation.EnsureRoleChangeAllowedAsync(id, role.Name, role.Permissions.Select(p => p.PermissionId).ToHashSet(), cancellationToken);
            await audit.RecordAsync("role.updated", "role", id.ToString(), before, RoleSnapshot.Of(role), cancellationToken);
            // Every holder's rights changed with the role; a global role's, in the applications of its old and new permissions.
            var holders = await db.RoleAssignments.Where(a => a.RoleId == id && a.EndedAt == null).Select(a => a.UserId).Distinct().ToListAsync(cancellationToken);
            IReadOnlyCollection<Guid> applications = role.ApplicationId is { } own ? [own]
                : [.. (await RoleApplications.OfGlobalPermissionsAsync(db, [.. before.Permissions.Select(p => p.PermissionId)], cancellationToken))
                    .Union(await RoleApplications.OfGlobalPermissionsAsync(db, [.. role.Permissions.Select(p => p.PermissionId)], cancellationToken))];
            await changes.AccessChangedAsync(holders, applications, "role.updated", cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return role;
    }

    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        var role = await db.AccessRoles.Include(r => r.Permissions).SingleOrDefaultAsync(r => r.Id == id, cancellationToken)
            ?? throw RuleViolation.NotFound("role", id);
        Revision.Check("role", role.UpdatedAt, expectedRevision);
        if (await RefusalToDeleteAsync(role, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        await db.InTransactionAsync(async () =>
        {
            db.AccessRoles.Remove(role);
            await audit.RecordAsync("role.deleted", "role", id.ToString(), RoleSnapshot.Of(role), null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Why <see cref="DeleteAsync"/> would refuse the role as it is now (assignments kept as history, a rule naming it); null when it would not.</summary>
    public async Task<RuleViolation?> RefusalToDeleteAsync(Guid id, CancellationToken cancellationToken) =>
        await RefusalToDeleteAsync(
            await db.AccessRoles.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("role", id), cancellationToken);

    private async Task<RuleViolation?> RefusalToDeleteAsync(Role role, CancellationToken cancellationToken)
    {
        var assignments = await db.RoleAssignments.CountAsync(a => a.RoleId == role.Id, cancellationToken);
        if (assignments > 0)
        {
            return RuleViolation.Coded(ViolationKind.Conflict, $"Role '{role.Name}' has {assignments} assignment(s), kept as history; it cannot be deleted.",
                "role.hasAssignments", role.Name, assignments.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return await db.SeparationOfDutyRules.AnyAsync(r => r.FirstRoleId == role.Id || r.SecondRoleId == role.Id, cancellationToken)
            ? RuleViolation.Coded(ViolationKind.Conflict, $"Role '{role.Name}' is used by a separation-of-duty rule; delete the rule first.", "role.inSodRule", role.Name)
            : null;
    }

    private async Task ApplyAsync(Role role, RoleInput input, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A role name is required, for example 'expense-approver'.", "role.nameRequired");
        }
        else if (name.Length > Role.NameMaxLength || !NamePattern().IsMatch(name))
        {
            errors.Add("name", $"The name may have up to {Role.NameMaxLength} letters, digits, '.', '_' or '-', starting with a letter or digit.", "role.name", $"{Role.NameMaxLength}");
        }

        var displayName = string.IsNullOrWhiteSpace(input.DisplayName) ? null : input.DisplayName.Trim();
        if (displayName is { Length: > Role.DisplayNameMaxLength })
        {
            errors.Add("displayName", $"The display name may have up to {Role.DisplayNameMaxLength} characters.",
                "role.displayNameLength", $"{Role.DisplayNameMaxLength}");
        }

        if (input.Description is { Length: > 2000 })
        {
            errors.Add("description", "The description may have up to 2000 characters.", "common.descriptionLength", "2000");
        }

        if (input.ApplicationId is { } applicationId && !await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            errors.Add("applicationId", $"No application with id '{applicationId}'.", "role.noApplication", $"{applicationId}");
        }

        var wanted = input.Permissions ?? [];
        var ids = wanted.Select(p => p.PermissionId).ToList();
        if (ids.Count != ids.Distinct().Count())
        {
            errors.Add("permissions", "A permission is listed twice.", "role.permissionTwice");
        }

        var found = await db.Permissions.Where(p => ids.Contains(p.Id)).ToDictionaryAsync(p => p.Id, cancellationToken);
        foreach (var item in wanted)
        {
            if (!found.TryGetValue(item.PermissionId, out var permission))
            {
                errors.Add("permissions", $"No permission with id '{item.PermissionId}'.", "role.noPermission", $"{item.PermissionId}");
                continue;
            }

            // An application's role bundles that application's permissions only; a global role may mix them.
            if (input.ApplicationId is { } owner && permission.ApplicationId != owner)
            {
                errors.Add("permissions", $"Permission '{permission.Name}' belongs to another application.", "role.permissionOfAnotherApplication", permission.Name);
            }

            Permissions.ValidateParameters(item.Parameters, "permissions", errors);
            foreach (var key in (item.Parameters ?? new Dictionary<string, string>()).Keys.Where(k => !permission.Parameters.ContainsKey(k)))
            {
                errors.Add("permissions", $"Permission '{permission.Name}' has no parameter '{key}'.", "role.noSuchParameter", permission.Name, key);
            }
        }

        errors.ThrowIfAny();
        if (await db.AccessRoles.AnyAsync(r => r.ApplicationId == input.ApplicationId && r.Name == name && r.Id != role.Id, cancellationToken))
        {
            throw input.ApplicationId is null
                ? RuleViolation.Field("name", $"A role named '{name}' already exists among global roles.", ViolationKind.Conflict, "role.nameTakenGlobal", name!)
                : RuleViolation.Field("name", $"A role named '{name}' already exists in this application.", ViolationKind.Conflict, "role.nameTaken", name!);
        }

        role.ApplicationId = input.ApplicationId;
        role.Name = name!;
        role.DisplayName = displayName;
        role.Description = input.Description?.Trim();
        role.Delegable = input.Delegable;
        role.Permissions.RemoveAll(p => !ids.Contains(p.PermissionId));
        foreach (var item in wanted)
        {
            var parameters = new Dictionary<string, string>(item.Parameters ?? new Dictionary<string, string>());
            if (role.Permissions.Find(p => p.PermissionId == item.PermissionId) is { } existing)
            {
                existing.Parameters = parameters;
            }
            else
            {
                role.Permissions.Add(new RolePermission { RoleId = role.Id, PermissionId = item.PermissionId, Parameters = parameters });
            }
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();
}

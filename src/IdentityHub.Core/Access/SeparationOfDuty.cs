using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

public sealed record SodRuleInput(string? Name, string? Description, Guid? FirstRoleId, Guid? SecondRoleId, Guid? FirstPermissionId, Guid? SecondPermissionId);

/// <summary>Someone who holds both sides of a rule now; <see cref="Code"/> is <see cref="Message"/> for the console's translation.</summary>
public sealed record SodViolation(
    Guid RuleId, string RuleName, string UserId, string UserName, Guid FirstAssignmentId, Guid SecondAssignmentId, string Message,
    string UserDisplayName, RuleMessage Code);

/// <summary>An assignment as the conflict check sees it: what it grants, where and when.</summary>
internal sealed record AssignmentView(
    Guid Id, string UserId, Guid RoleId, string RoleName, string? RoleDisplayName, IReadOnlySet<Guid> PermissionIds, string? ScopePath, string? ScopeName,
    DateTimeOffset From, DateTimeOffset? Until)
{
    /// <summary>The role as people read it: its display name with the key, or the key.</summary>
    public string RoleLabel => AssignmentWording.Role(RoleName, RoleDisplayName);

    /// <summary>"role 'X' (department 'Y', from ... until ...)": how a refusal names this assignment (never by its id).</summary>
    public string Described => AssignmentWording.Describe(RoleLabel, ScopeName, From, Until);

    /// <summary>Two grants meet when their scopes meet (one subtree contains the other) and their windows overlap.</summary>
    public bool Meets(AssignmentView other) =>
        (ScopePath is null || other.ScopePath is null
            || ScopePath.StartsWith(other.ScopePath, StringComparison.Ordinal) || other.ScopePath.StartsWith(ScopePath, StringComparison.Ordinal))
        && (other.Until is null || From < other.Until) && (Until is null || other.From < Until);
}

/// <summary>Separation-of-duty rules: pairs of roles or permissions no one may hold together where and when they overlap.</summary>
public sealed class SeparationOfDuty(IdentityHubDbContext db, AuditTrail audit, TimeProvider clock)
{
    public async Task<SeparationOfDutyRule> CreateRuleAsync(SodRuleInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new FieldErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors.Add("name", "A rule name of up to 200 characters is required.");
        }

        var roles = input.FirstRoleId is not null || input.SecondRoleId is not null;
        var permissions = input.FirstPermissionId is not null || input.SecondPermissionId is not null;
        if (roles == permissions)
        {
            errors.Add("firstRoleId", "A rule names either two roles or two permissions.");
        }
        else if (roles)
        {
            await CheckPairAsync(input.FirstRoleId, input.SecondRoleId, "RoleId", id => db.AccessRoles.AnyAsync(r => r.Id == id, cancellationToken), errors);
        }
        else
        {
            await CheckPairAsync(input.FirstPermissionId, input.SecondPermissionId, "PermissionId", id => db.Permissions.AnyAsync(p => p.Id == id, cancellationToken), errors);
        }

        errors.ThrowIfAny();
        if (await db.SeparationOfDutyRules.AnyAsync(r => r.Name == name, cancellationToken))
        {
            throw RuleViolation.Field("name", $"A rule named '{name}' already exists.", ViolationKind.Conflict);
        }

        var rule = new SeparationOfDutyRule
        {
            Id = Guid.CreateVersion7(),
            Name = name!,
            Description = input.Description?.Trim(),
            FirstRoleId = input.FirstRoleId,
            SecondRoleId = input.SecondRoleId,
            FirstPermissionId = input.FirstPermissionId,
            SecondPermissionId = input.SecondPermissionId,
            CreatedAt = Revision.Now(clock),
        };
        await db.InTransactionAsync(async () =>
        {
            db.SeparationOfDutyRules.Add(rule);
            await audit.RecordAsync("sod-rule.created", "sod-rule", rule.Id.ToString(), null, input, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return rule;
    }

    public async Task DeleteRuleAsync(Guid id, CancellationToken cancellationToken)
    {
        var rule = await db.SeparationOfDutyRules.SingleOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("separation-of-duty rule", id);
        await db.InTransactionAsync(async () =>
        {
            db.SeparationOfDutyRules.Remove(rule);
            await audit.RecordAsync("sod-rule.deleted", "sod-rule", id.ToString(), new { rule.Name, rule.FirstRoleId, rule.SecondRoleId, rule.FirstPermissionId, rule.SecondPermissionId }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>People who hold conflicting grants now (for example assignments made before the rule existed).</summary>
    public async Task<IReadOnlyList<SodViolation>> ViolationsAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rules = await db.SeparationOfDutyRules.AsNoTracking().ToListAsync(cancellationToken);
        if (rules.Count == 0)
        {
            return [];
        }

        var views = await LoadViewsAsync(db.RoleAssignments.Where(RoleAssignment.CurrentOrUpcomingAt(now)), cancellationToken);
        var names = await NamesAsync(rules, cancellationToken);
        var holders = views.Select(v => v.UserId).Distinct().ToList();
        var people = await db.Users.Where(u => holders.Contains(u.Id))
            .Select(u => new { u.Id, u.UserName, u.DisplayName }).ToDictionaryAsync(u => u.Id, cancellationToken);
        var violations = new List<SodViolation>();
        foreach (var held in views.GroupBy(v => v.UserId))
        {
            var list = held.ToList();
            for (var i = 0; i < list.Count; i++)
            {
                for (var j = i; j < list.Count; j++)
                {
                    foreach (var rule in rules.Where(r => Conflicts(r, list[i], list[j])))
                    {
                        var person = people.GetValueOrDefault(held.Key);
                        violations.Add(new(rule.Id, rule.Name, held.Key, person?.UserName ?? held.Key, list[i].Id, list[j].Id,
                            Describe(rule, names, list[i], list[j]), person?.DisplayName ?? held.Key, CodeOf(rule, names, list[i], list[j])));
                    }
                }
            }
        }

        return violations;
    }

    /// <summary>Refuses <paramref name="candidate"/> when, with what the user already holds, it breaks a rule; the message names both.</summary>
    internal async Task EnsureAllowedAsync(AssignmentView candidate, CancellationToken cancellationToken)
    {
        var rules = await db.SeparationOfDutyRules.AsNoTracking().ToListAsync(cancellationToken);
        if (rules.Count == 0)
        {
            return;
        }

        var held = await LoadViewsAsync(db.RoleAssignments.Where(a => a.UserId == candidate.UserId && a.EndedAt == null), cancellationToken);
        var names = await NamesAsync(rules, cancellationToken);
        foreach (var other in held.Prepend(candidate))
        {
            if (rules.FirstOrDefault(r => Conflicts(r, candidate, other)) is { } rule)
            {
                var message = Describe(rule, names, candidate, other);
                throw RuleViolation.Field("roleId", message, ViolationKind.Conflict, CodeOf(rule, names, candidate, other));
            }
        }
    }

    /// <summary>
    /// Refuses a change to what role <paramref name="roleId"/> bundles when, with the new permissions, one of its
    /// current holders would break a permission rule; the message names the rule and the first such holder.
    /// </summary>
    internal async Task EnsureRoleChangeAllowedAsync(Guid roleId, string roleName, IReadOnlySet<Guid> permissionIds, CancellationToken cancellationToken)
    {
        // Role-pair rules name roles, not their contents: only permission rules can start to bite here.
        var rules = await db.SeparationOfDutyRules.AsNoTracking().Where(r => r.FirstPermissionId != null).ToListAsync(cancellationToken);
        if (rules.Count == 0)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var holders = db.RoleAssignments.Where(RoleAssignment.CurrentOrUpcomingAt(now)).Where(a => a.RoleId == roleId).Select(a => a.UserId);
        var views = await LoadViewsAsync(db.RoleAssignments.Where(RoleAssignment.CurrentOrUpcomingAt(now)).Where(a => holders.Contains(a.UserId)), cancellationToken);
        if (views.Count == 0)
        {
            return;
        }

        var changed = views.Select(v => v.RoleId == roleId ? v with { PermissionIds = permissionIds } : v).ToList();
        var userNames = await db.Users.Where(u => holders.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.UserName ?? u.Id, cancellationToken);
        var names = await NamesAsync(rules, cancellationToken);
        foreach (var held in changed.GroupBy(v => v.UserId).OrderBy(g => userNames.GetValueOrDefault(g.Key, g.Key), StringComparer.Ordinal))
        {
            var list = held.ToList();
            foreach (var mine in list.Where(v => v.RoleId == roleId))
            {
                foreach (var other in list)
                {
                    if (rules.FirstOrDefault(r => Conflicts(r, mine, other)) is { } rule)
                    {
                        var user = userNames.GetValueOrDefault(held.Key, held.Key);
                        var through = mine.Id == other.Id ? $"through {mine.Described}" : $"through {mine.Described} and {other.Described}";
                        var message = $"Separation of duty: rule '{rule.Name}' forbids holding {Pair(rule, names)} together, and with this change "
                            + $"role '{roleName}' would give that to '{user}' ({through}); "
                            + "nothing was changed. End the conflicting assignment first, or bundle other permissions.";
                        throw RuleViolation.Field("permissions", message, ViolationKind.Conflict,
                            new RuleMessage("sod.roleChange", [rule.Name, First(rule, names), Second(rule, names), roleName, user]));
                    }
                }
            }
        }
    }

    internal static async Task<List<AssignmentView>> LoadViewsAsync(IQueryable<RoleAssignment> assignments, CancellationToken cancellationToken)
    {
        var rows = await assignments.AsNoTracking()
            .Select(a => new
            {
                a.Id, a.UserId, a.RoleId, RoleName = a.Role!.Name, RoleDisplayName = a.Role.DisplayName, Permissions = a.Role.Permissions.Select(p => p.PermissionId).ToList(),
                Path = a.Department == null ? null : a.Department.Path, DepartmentName = a.Department == null ? null : a.Department.Name,
                a.ValidFrom, a.ValidUntil,
            })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(r => new AssignmentView(
            r.Id, r.UserId, r.RoleId, r.RoleName, r.RoleDisplayName, r.Permissions.ToHashSet(), r.Path, r.DepartmentName, r.ValidFrom, r.ValidUntil))];
    }

    private static bool Conflicts(SeparationOfDutyRule rule, AssignmentView a, AssignmentView b)
    {
        if (!a.Meets(b))
        {
            return false;
        }

        if (rule.FirstRoleId is { } r1 && rule.SecondRoleId is { } r2)
        {
            return a.Id != b.Id && ((a.RoleId == r1 && b.RoleId == r2) || (a.RoleId == r2 && b.RoleId == r1));
        }

        return rule.FirstPermissionId is { } p1 && rule.SecondPermissionId is { } p2
            && ((a.PermissionIds.Contains(p1) && b.PermissionIds.Contains(p2)) || (a.PermissionIds.Contains(p2) && b.PermissionIds.Contains(p1)));
    }

    private static string Describe(SeparationOfDutyRule rule, IReadOnlyDictionary<Guid, string> names, AssignmentView candidate, AssignmentView other)
    {
        var pair = Pair(rule, names);
        // The other assignment is named by its role, scope and dates: its id means nothing to the person reading this.
        return candidate.Id == other.Id
            ? $"Separation of duty: rule '{rule.Name}' forbids holding {pair} together, and role '{candidate.RoleLabel}' grants both."
            : $"Separation of duty: rule '{rule.Name}' forbids holding {pair} together; the user already holds {other.Described}, which overlaps {candidate.Described}.";
    }

    /// <summary>The same refusal as a code and its values, for the console's translation (scopes and windows as phrases of their own).</summary>
    private static RuleMessage CodeOf(SeparationOfDutyRule rule, IReadOnlyDictionary<Guid, string> names, AssignmentView candidate, AssignmentView other) =>
        candidate.Id == other.Id
            ? new("sod.grantsBoth", [rule.Name, First(rule, names), Second(rule, names), candidate.RoleLabel])
            : new("sod.conflict", [
                rule.Name, First(rule, names), Second(rule, names),
                other.RoleLabel, AssignmentWording.Scope(other.ScopeName), AssignmentWording.Window(other.From, other.Until),
                candidate.RoleLabel, AssignmentWording.Scope(candidate.ScopeName), AssignmentWording.Window(candidate.From, candidate.Until)])
            {
                Phrases = new Dictionary<int, RuleMessage>
                {
                    [4] = AssignmentWording.ScopePhrase(other.ScopeName), [5] = AssignmentWording.WindowPhrase(other.From, other.Until),
                    [7] = AssignmentWording.ScopePhrase(candidate.ScopeName), [8] = AssignmentWording.WindowPhrase(candidate.From, candidate.Until),
                },
            };

    private static string First(SeparationOfDutyRule rule, IReadOnlyDictionary<Guid, string> names) =>
        names.GetValueOrDefault(rule.FirstRoleId ?? rule.FirstPermissionId ?? Guid.Empty, "?");

    private static string Second(SeparationOfDutyRule rule, IReadOnlyDictionary<Guid, string> names) =>
        names.GetValueOrDefault(rule.SecondRoleId ?? rule.SecondPermissionId ?? Guid.Empty, "?");

    /// <summary>"'A' and 'B'": the words the console's texts use too, so the API and the console refuse alike.</summary>
    private static string Pair(SeparationOfDutyRule rule, IReadOnlyDictionary<Guid, string> names) => $"'{First(rule, names)}' and '{Second(rule, names)}'";

    private async Task<Dictionary<Guid, string>> NamesAsync(IReadOnlyList<SeparationOfDutyRule> rules, CancellationToken cancellationToken)
    {
        var roleIds = rules.SelectMany(r => new[] { r.FirstRoleId, r.SecondRoleId }).OfType<Guid>().ToList();
        var permissionIds = rules.SelectMany(r => new[] { r.FirstPermissionId, r.SecondPermissionId }).OfType<Guid>().ToList();
        var names = await db.AccessRoles.Where(r => roleIds.Contains(r.Id))
            .ToDictionaryAsync(r => r.Id, r => AssignmentWording.Role(r.Name, r.DisplayName), cancellationToken);
        foreach (var (id, name) in await db.Permissions.Where(p => permissionIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken))
        {
            names[id] = name;
        }

        return names;
    }

    private static async Task CheckPairAsync(Guid? first, Guid? second, string suffix, Func<Guid, Task<bool>> exists, FieldErrors errors)
    {
        if (first is not { } a || second is not { } b)
        {
            errors.Add("second" + suffix, "Both sides of the pair are required.");
            return;
        }

        if (a == b)
        {
            errors.Add("second" + suffix, "The two sides of a rule must differ.");
        }

        if (!await exists(a))
        {
            errors.Add("first" + suffix, $"Unknown id '{a}'.");
        }

        if (!await exists(b))
        {
            errors.Add("second" + suffix, $"Unknown id '{b}'.");
        }
    }
}

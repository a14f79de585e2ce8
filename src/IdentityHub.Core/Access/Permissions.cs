using System.Text.RegularExpressions;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

public sealed record PermissionInput(string? Name, string? Description, IReadOnlyDictionary<string, string>? Parameters);

public sealed record PermissionSnapshot(Guid Id, Guid ApplicationId, string Name, string? Description, IReadOnlyDictionary<string, string> Parameters)
{
    public static PermissionSnapshot Of(Permission p) => new(p.Id, p.ApplicationId, p.Name, p.Description, new Dictionary<string, string>(p.Parameters));
}

/// <summary>An application's permissions (<c>expense.approve</c> with <c>amountLimit</c>).</summary>
public sealed partial class Permissions(IdentityHubDbContext db, EntitlementChanges changes, AuditTrail audit, TimeProvider clock)
{
    public const int MaxParameters = 20;
    public const int ParameterValueMaxLength = 200;

    public async Task<Permission> CreateAsync(Guid applicationId, PermissionInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        Validate(input).ThrowIfAny();
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            throw RuleViolation.NotFound("application", applicationId);
        }

        await EnsureNameFreeAsync(applicationId, input.Name!.Trim(), null, cancellationToken);
        var now = Revision.Now(clock);
        var permission = new Permission
        {
            Id = Guid.CreateVersion7(),
            ApplicationId = applicationId,
            Name = input.Name!.Trim(),
            Description = input.Description?.Trim(),
            Parameters = new Dictionary<string, string>(input.Parameters ?? new Dictionary<string, string>()),
            CreatedAt = now,
            UpdatedAt = now,
        };
        await db.InTransactionAsync(async () =>
        {
            db.Permissions.Add(permission);
            await audit.RecordAsync("permission.created", "permission", permission.Id.ToString(), null, PermissionSnapshot.Of(permission), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return permission;
    }

    public async Task<Permission> UpdateAsync(Guid id, PermissionInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        Validate(input).ThrowIfAny();
        var permission = await db.Permissions.SingleOrDefaultAsync(p => p.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("permission", id);
        Revision.Check("permission", permission.UpdatedAt, expectedRevision);
        await EnsureNameFreeAsync(permission.ApplicationId, input.Name!.Trim(), id, cancellationToken);
        var before = PermissionSnapshot.Of(permission);
        permission.Name = input.Name!.Trim();
        permission.Description = input.Description?.Trim();
        permission.Parameters = new Dictionary<string, string>(input.Parameters ?? new Dictionary<string, string>());
        permission.UpdatedAt = Revision.After(permission.UpdatedAt, clock);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("permission.updated", "permission", id.ToString(), before, PermissionSnapshot.Of(permission), cancellationToken);
            var holders = await db.RoleAssignments.Where(a => a.EndedAt == null && a.Role!.Permissions.Any(p => p.PermissionId == id))
                .Select(a => a.UserId).Distinct().ToListAsync(cancellationToken);
            await changes.AccessChangedAsync(holders, [permission.ApplicationId], "permission.updated", cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return permission;
    }

    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        var permission = await db.Permissions.SingleOrDefaultAsync(p => p.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("permission", id);
        Revision.Check("permission", permission.UpdatedAt, expectedRevision);
        if (await RefusalToDeleteAsync(permission, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        await db.InTransactionAsync(async () =>
        {
            db.Permissions.Remove(permission);
            await audit.RecordAsync("permission.deleted", "permission", id.ToString(), PermissionSnapshot.Of(permission), null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Why <see cref="DeleteAsync"/> would refuse the permission as it is now (roles bundling it, a rule naming it); null when it would not.</summary>
    public async Task<RuleViolation?> RefusalToDeleteAsync(Guid id, CancellationToken cancellationToken) =>
        await RefusalToDeleteAsync(
            await db.Permissions.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("permission", id), cancellationToken);

    private async Task<RuleViolation?> RefusalToDeleteAsync(Permission permission, CancellationToken cancellationToken)
    {
        var id = permission.Id;
        var roles = await db.AccessRoles.Where(r => r.Permissions.Any(p => p.PermissionId == id)).Select(r => r.Name).ToListAsync(cancellationToken);
        if (roles.Count > 0)
        {
            var names = string.Join(", ", roles.Select(r => $"'{r}'"));
            return RuleViolation.Coded(ViolationKind.Conflict, $"Permission '{permission.Name}' is part of role(s) {names}; remove it from them first.",
                "permission.inRoles", permission.Name, names);
        }

        return await db.SeparationOfDutyRules.AnyAsync(r => r.FirstPermissionId == id || r.SecondPermissionId == id, cancellationToken)
            ? RuleViolation.Coded(ViolationKind.Conflict, $"Permission '{permission.Name}' is used by a separation-of-duty rule; delete the rule first.",
                "permission.inSodRule", permission.Name)
            : null;
    }

    private async Task EnsureNameFreeAsync(Guid applicationId, string name, Guid? exceptId, CancellationToken cancellationToken)
    {
        if (await db.Permissions.AnyAsync(p => p.ApplicationId == applicationId && p.Name == name && p.Id != exceptId, cancellationToken))
        {
            throw RuleViolation.Field("name", $"The application already has a permission named '{name}'.", ViolationKind.Conflict, "permission.nameTaken", name);
        }
    }

    private static FieldErrors Validate(PermissionInput input)
    {
        var errors = new FieldErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A permission name is required, for example 'expense.approve'.", "permission.nameRequired");
        }
        else if (name.Length > Permission.NameMaxLength || !NamePattern().IsMatch(name))
        {
            errors.Add("name", $"The name may have up to {Permission.NameMaxLength} lower-case letters, digits, '.', '_', ':' or '-', starting with a letter or digit.",
                "permission.name", $"{Permission.NameMaxLength}");
        }

        if (input.Description is { Length: > 2000 })
        {
            errors.Add("description", "The description may have up to 2000 characters.", "common.descriptionLength", "2000");
        }

        ValidateParameters(input.Parameters, "parameters", errors);
        return errors;
    }

    internal static void ValidateParameters(IReadOnlyDictionary<string, string>? parameters, string field, FieldErrors errors)
    {
        if (parameters is null)
        {
            return;
        }

        if (parameters.Count > MaxParameters)
        {
            errors.Add(field, $"A permission may have up to {MaxParameters} parameters.", "permission.parameterCount", $"{MaxParameters}");
        }

        foreach (var (key, value) in parameters)
        {
            if (!ParameterPattern().IsMatch(key))
            {
                errors.Add(field, $"Parameter name '{key}' must start with a letter and have up to 64 letters, digits or '_'.", "permission.parameterName", key);
            }

            if (value is null || value.Length > ParameterValueMaxLength)
            {
                errors.Add(field, $"Parameter '{key}' needs a value of up to {ParameterValueMaxLength} characters.", "permission.parameterValue", key, $"{ParameterValueMaxLength}");
            }
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._:-]*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ParameterPattern();
}

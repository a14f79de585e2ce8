using System.Text.RegularExpressions;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Directory;

public sealed record DepartmentInput(string? Code, string? Name, Guid? ParentId);

/// <summary>What the audit trail keeps of a department.</summary>
public sealed record DepartmentSnapshot(Guid Id, string Code, string Name, Guid? ParentId, string Path)
{
    public static DepartmentSnapshot Of(Department d) => new(d.Id, d.Code, d.Name, d.ParentId, d.Path);
}

/// <summary>The department tree: create, rename, move a subtree (never under itself), delete an empty leaf.</summary>
public sealed partial class Departments(IdentityHubDbContext db, EntitlementChanges changes, AuditTrail audit, Delegation delegation, TimeProvider clock)
{
    public const int CodeMaxLength = 64;
    public const int NameMaxLength = 200;

    public async Task<Department> CreateAsync(DepartmentInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = Validate(input);
        var parent = input.ParentId is { } parentId ? await db.Departments.SingleOrDefaultAsync(d => d.Id == parentId, cancellationToken) : null;
        if (input.ParentId is not null && parent is null)
        {
            errors.Add("parentId", $"No department with id '{input.ParentId}'.");
        }

        errors.ThrowIfAny();
        await delegation.EnsureInsideAsync(parent, "parentId", cancellationToken);
        await EnsureCodeFreeAsync(input.Code!.Trim(), exceptId: null, cancellationToken);

        var now = Revision.Now(clock);
        var id = Guid.CreateVersion7();
        var department = new Department
        {
            Id = id,
            Code = input.Code!.Trim(),
            Name = input.Name!.Trim(),
            ParentId = parent?.Id,
            Path = (parent?.Path ?? "/") + id.ToString("N") + "/",
            CreatedAt = now,
            UpdatedAt = now,
        };
        await db.InTransactionAsync(async () =>
        {
            db.Departments.Add(department);
            await audit.RecordAsync("department.created", "department", id.ToString(), null, DepartmentSnapshot.Of(department), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return department;
    }

    public async Task<Department> UpdateAsync(Guid id, DepartmentInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = Validate(input);
        errors.ThrowIfAny();
        var department = await FindAsync(id, cancellationToken);
        Revision.Check("department", department.UpdatedAt, expectedRevision);
        await delegation.EnsureInsideAsync(department, field: null, cancellationToken);
        await EnsureCodeFreeAsync(input.Code!.Trim(), id, cancellationToken);
        // A move and a rename in one request land together or not at all.
        return await db.InTransactionAsync(async () =>
        {
            if (input.ParentId != department.ParentId)
            {
                department = await MoveAsync(id, input.ParentId, expectedRevision, cancellationToken);
            }

            var before = DepartmentSnapshot.Of(department);
            department.Code = input.Code!.Trim();
            department.Name = input.Name!.Trim();
            if (before != DepartmentSnapshot.Of(department))
            {
                department.UpdatedAt = Revision.After(department.UpdatedAt, clock);
                await audit.RecordAsync("department.updated", "department", id.ToString(), before, DepartmentSnapshot.Of(department), cancellationToken);
                // Its members carry its code and name; rights scoped to it or below carry its code or name in their scope.
                var subtree = await db.Departments.Where(d => d.Path.StartsWith(department.Path)).Select(d => d.Id).ToListAsync(cancellationToken);
                await changes.DepartmentsChangedAsync([id], subtree, "department.updated", cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            return department;
        }, cancellationToken);
    }

    /// <summary>Sets whether everyone in the department's subtree signs in with a second factor (Factors.MfaPolicy reads it).</summary>
    public async Task<Department> SetRequireMfaAsync(Guid id, bool required, long? expectedRevision, CancellationToken cancellationToken)
    {
        var department = await FindAsync(id, cancellationToken);
        Revision.Check("department", department.UpdatedAt, expectedRevision);
        await delegation.EnsureInsideAsync(department, field: null, cancellationToken);
        if (department.RequireMfa == required)
        {
            return department;
        }

        return await db.InTransactionAsync(async () =>
        {
            department.RequireMfa = required;
            department.UpdatedAt = Revision.After(department.UpdatedAt, clock);
            await audit.RecordAsync("department.mfa-changed", "department", id.ToString(), new { requireMfa = !required }, new { requireMfa = required }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return department;
        }, cancellationToken);
    }

    /// <summary>Moves a department and its whole subtree under <paramref name="newParentId"/> (null = a root).</summary>
    public async Task<Department> MoveAsync(Guid id, Guid? newParentId, long? expectedRevision, CancellationToken cancellationToken)
    {
        var department = await FindAsync(id, cancellationToken);
        Revision.Check("department", department.UpdatedAt, expectedRevision);
        // An HR administrator moves only what they administer, and only to under something they administer.
        await delegation.EnsureInsideAsync(department, field: null, cancellationToken);
        Department? parent = null;
        if (newParentId is { } parentId)
        {
            parent = await db.Departments.SingleOrDefaultAsync(d => d.Id == parentId, cancellationToken)
                ?? throw RuleViolation.Field("parentId", $"No department with id '{parentId}'.");
            EnsureNoCycle(department, parent);
        }

        if (department.ParentId == newParentId)
        {
            return department;
        }

        await delegation.EnsureInsideAsync(parent, "parentId", cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            // Two moves at once (A under B, B under A) would each pass the cycle check on the tree as it was:
            // take the write lock first, then check again on the tree as it is now.
            await audit.SerializeAsync(cancellationToken);
            await db.Entry(department).ReloadAsync(cancellationToken);
            Revision.Check("department", department.UpdatedAt, expectedRevision);
            if (parent is not null)
            {
                await db.Entry(parent).ReloadAsync(cancellationToken);
                EnsureNoCycle(department, parent);
            }

            var before = DepartmentSnapshot.Of(department);
            var oldPath = department.Path;
            var newPath = (parent?.Path ?? "/") + id.ToString("N") + "/";
            var subtree = await db.Departments.Where(d => d.Path.StartsWith(oldPath)).ToListAsync(cancellationToken);
            foreach (var node in subtree)
            {
                node.Path = string.Concat(newPath, node.Path.AsSpan(oldPath.Length));
            }

            department.ParentId = parent?.Id;
            department.UpdatedAt = Revision.After(department.UpdatedAt, clock);
            await audit.RecordAsync("department.moved", "department", id.ToString(), before, DepartmentSnapshot.Of(department), cancellationToken);
            // Everyone below moved too, and so did every right scoped to the subtree.
            var ids = subtree.Select(d => d.Id).ToList();
            await changes.DepartmentsChangedAsync(ids, ids, "department.moved", cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return department;
    }

    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        var department = await FindAsync(id, cancellationToken);
        Revision.Check("department", department.UpdatedAt, expectedRevision);
        await delegation.EnsureInsideAsync(department, field: null, cancellationToken);
        if (await RefusalToDeleteAsync(department, cancellationToken) is { } refusal)
        {
            throw refusal;
        }

        await db.InTransactionAsync(async () =>
        {
            var leavers = await db.Users.Where(u => u.DepartmentId == id && u.Status == UserStatus.Left)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.DepartmentId, (Guid?)null), cancellationToken);
            if (leavers > 0)
            {
                await audit.RecordAsync("department.leavers-detached", "department", id.ToString(), null, new { leavers }, cancellationToken);
            }

            db.Departments.Remove(department);
            await audit.RecordAsync("department.deleted", "department", id.ToString(), DepartmentSnapshot.Of(department), null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Why <see cref="DeleteAsync"/> would refuse the department as it is now (people, sub-departments, scoped assignments); null when it would not.</summary>
    public async Task<RuleViolation?> RefusalToDeleteAsync(Guid id, CancellationToken cancellationToken) =>
        await RefusalToDeleteAsync(await FindAsync(id, cancellationToken), cancellationToken);

    private async Task<RuleViolation?> RefusalToDeleteAsync(Department department, CancellationToken cancellationToken)
    {
        var id = department.Id;
        // People who left do not hold a department: they are detached when it goes (DeleteAsync).
        var users = await db.Users.CountAsync(u => u.DepartmentId == id && u.Status != UserStatus.Left, cancellationToken);
        if (users > 0)
        {
            return RuleViolation.Coded(ViolationKind.Conflict, $"Department '{department.Name}' still has {users} user(s); move them to another department first.",
                "department.hasUsers", department.Name, users.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (await db.Departments.AnyAsync(d => d.ParentId == id, cancellationToken))
        {
            return RuleViolation.Coded(ViolationKind.Conflict, $"Department '{department.Name}' still has sub-departments; move or delete them first.",
                "department.hasChildren", department.Name);
        }

        var assignments = await db.RoleAssignments.CountAsync(a => a.DepartmentId == id, cancellationToken);
        return assignments > 0
            ? RuleViolation.Coded(ViolationKind.Conflict, $"Department '{department.Name}' is the scope of {assignments} role assignment(s), kept as history; it cannot be deleted.",
                "department.hasAssignments", department.Name, assignments.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : null;
    }

    /// <summary>A tree has no cycles: the new parent may not be the department itself or anything below it.</summary>
    private static void EnsureNoCycle(Department department, Department parent)
    {
        if (parent.Path.StartsWith(department.Path, StringComparison.Ordinal))
        {
            throw RuleViolation.Field("parentId",
                $"Cannot move '{department.Name}' under '{parent.Name}': '{parent.Name}' is inside '{department.Name}', which would make a cycle.",
                ViolationKind.Conflict, "department.cycle", department.Name, parent.Name);
        }
    }

    private async Task<Department> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Departments.SingleOrDefaultAsync(d => d.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("department", id);

    private async Task EnsureCodeFreeAsync(string code, Guid? exceptId, CancellationToken cancellationToken)
    {
        if (await db.Departments.AnyAsync(d => d.Code == code && d.Id != exceptId, cancellationToken))
        {
            throw RuleViolation.Field("code", $"Another department already has the code '{code}'.", ViolationKind.Conflict);
        }
    }

    private static FieldErrors Validate(DepartmentInput input)
    {
        var errors = new FieldErrors();
        var code = input.Code?.Trim();
        if (string.IsNullOrEmpty(code))
        {
            errors.Add("code", "A department code is required.");
        }
        else if (code.Length > CodeMaxLength || !CodePattern().IsMatch(code))
        {
            errors.Add("code", $"The code may have up to {CodeMaxLength} letters, digits, '.', '_' or '-'.");
        }

        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "A department name is required.");
        }
        else if (name.Length > NameMaxLength)
        {
            errors.Add("name", $"The name may have up to {NameMaxLength} characters.");
        }

        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex CodePattern();
}

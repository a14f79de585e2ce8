using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Inbound;

/// <summary>
/// A person as a source describes them. References name a department or a manager by IdentityHub id, by the source's
/// own id (external id), by department code or by employee number; <see cref="Active"/> false means suspended.
/// </summary>
public sealed record SourcePerson(
    string? ExternalId, string? EmployeeNumber, string? UserName, string? DisplayName, string? Email, string? PhoneNumber,
    string? DepartmentRef, string? ManagerRef, bool Active = true);

/// <summary>A department as a source describes it; <see cref="ParentRef"/> names the parent like a person's department reference.</summary>
public sealed record SourceDepartment(string? ExternalId, string? Name, string? ParentRef, string? Code = null);

public enum IntakeOutcome
{
    Created,
    Updated,
    Unchanged,
    Left,
}

public sealed record IntakeResult<T>(T Value, IntakeOutcome Outcome);

/// <summary>
/// Takes the organisation in from a source (SCIM push, REST pull): each person or department goes through the same
/// <see cref="UserDirectory"/> and <see cref="Departments"/> calls as an administrator's change, as the source (an HR
/// administrator of its subtrees), in one transaction per record, so a refusal leaves nothing half-applied. A source
/// writes only the attributes it owns (all of them when it creates someone); a manager who is not in yet is linked
/// when they arrive.
/// </summary>
public sealed class OrganisationIntake(
    IdentityHubDbContext db, UserDirectory directory, Departments departments, CurrentActor actor, Mail.MailSignal mailSignal)
{
    public const int ReferenceMaxLength = 256;

    /// <summary>Creates or updates the person the source means (<paramref name="userId"/> when the source names our id, as SCIM PUT does).</summary>
    public async Task<IntakeResult<UserAccount>> ApplyPersonAsync(InboundSource source, SourcePerson person, string? userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(person);
        await ActAsAsync(source, cancellationToken);
        ValidateReferences(person);
        var existing = userId is not null
            ? await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw RuleViolation.NotFound("user", userId)
            : await FindPersonAsync(source, person, cancellationToken);
        await EnsureSourceOfAsync(source, existing?.SourceId, existing?.UserName, cancellationToken);
        var departmentId = await ResolveDepartmentAsync(source, person.DepartmentRef, "department", cancellationToken);
        var (managerId, pendingManager) = await ResolveManagerAsync(source, person.ManagerRef, existing?.Id, cancellationToken);
        var owned = SourceAttributes.Parse(source.OwnedAttributes);
        // Only a person the source creates, active and with an address, is invited: once, at creation, never on an update.
        var invite = existing is null && source.InviteNewUsers && person.Active && !string.IsNullOrWhiteSpace(person.Email);
        var ownsTransaction = db.Database.CurrentTransaction is null;

        var applied = await db.InTransactionAsync(async () =>
        {
            UserAccount user;
            IntakeOutcome outcome;
            if (existing is null)
            {
                user = await directory.CreateAsync(new UserInput(
                    person.UserName ?? person.EmployeeNumber ?? person.ExternalId, person.DisplayName, person.Email, person.PhoneNumber,
                    person.EmployeeNumber, departmentId, managerId), initialPassword: null, invite, SourceActor.IdOf(source.Id), cancellationToken);
                outcome = IntakeOutcome.Created;
            }
            else
            {
                string? Take(string attribute, string? theirs, string? ours) => owned.Contains(attribute) ? theirs : ours;
                var revision = existing.UpdatedAt;
                user = await directory.UpdateAsync(existing.Id, new UserInput(
                    Take(SourceAttributes.UserName, person.UserName ?? existing.UserName, existing.UserName),
                    Take(SourceAttributes.DisplayName, person.DisplayName, existing.DisplayName),
                    Take(SourceAttributes.Email, person.Email, existing.Email),
                    Take(SourceAttributes.PhoneNumber, person.PhoneNumber, existing.PhoneNumber),
                    Take(SourceAttributes.EmployeeNumber, person.EmployeeNumber, existing.EmployeeNumber),
                    owned.Contains(SourceAttributes.Department) ? departmentId : existing.DepartmentId,
                    Take(SourceAttributes.Manager, managerId, existing.ManagerId)), expectedRevision: null, cancellationToken);
                outcome = user.UpdatedAt != revision ? IntakeOutcome.Updated : IntakeOutcome.Unchanged;
                if (!owned.Contains(SourceAttributes.Manager))
                {
                    pendingManager = existing.PendingManagerRef;
                }
            }

            if (existing is null || owned.Contains(SourceAttributes.Status))
            {
                outcome = await ApplyActiveAsync(user, person.Active, outcome, cancellationToken);
            }

            var origin = (user.SourceId, user.ExternalId, user.PendingManagerRef);
            user.SourceId = source.Id;
            user.ExternalId = person.ExternalId ?? user.ExternalId;
            user.PendingManagerRef = pendingManager;
            if (origin != (user.SourceId, user.ExternalId, user.PendingManagerRef))
            {
                await db.SaveChangesAsync(cancellationToken);
            }

            await LinkWaitingReportsAsync(source, user, cancellationToken);
            return new IntakeResult<UserAccount>(user, outcome);
        }, cancellationToken);
        if (invite && ownsTransaction)
        {
            // Woken after the commit; inside a run's transaction (a dry run) nothing is committed, so nothing is sent.
            mailSignal.Notify();
        }

        return applied;
    }

    /// <summary>The person left in the source: marked as left as an administrator would (sessions, tokens and assignments end); never deleted.</summary>
    public async Task<IntakeResult<UserAccount>> MarkLeftAsync(InboundSource source, string userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await ActAsAsync(source, cancellationToken);
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw RuleViolation.NotFound("user", userId);
        await EnsureSourceOfAsync(source, user.SourceId, user.UserName, cancellationToken);
        if (user.Status == UserStatus.Left)
        {
            return new IntakeResult<UserAccount>(user, IntakeOutcome.Unchanged);
        }

        var left = await directory.MarkLeftAsync(userId, $"Left according to {source.Name}.", cancellationToken);
        return new IntakeResult<UserAccount>(left, IntakeOutcome.Left);
    }

    /// <summary>Creates or updates the department the source means (<paramref name="departmentId"/> when it names our id).</summary>
    public async Task<IntakeResult<Department>> ApplyDepartmentAsync(
        InboundSource source, SourceDepartment department, Guid? departmentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(department);
        await ActAsAsync(source, cancellationToken);
        if (department.ExternalId is { Length: > ReferenceMaxLength } || department.ParentRef is { Length: > ReferenceMaxLength })
        {
            throw RuleViolation.Field("externalId", $"A source's ids may have up to {ReferenceMaxLength} characters.");
        }

        var existing = departmentId is { } id
            ? await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("department", id)
            : await FindDepartmentAsync(source, department, cancellationToken);
        await EnsureSourceOfAsync(source, existing?.SourceId, existing?.Name, cancellationToken);
        var parentId = department.ParentRef is null
            ? existing is null ? await DefaultParentAsync(source, cancellationToken) : existing.ParentId
            : await ResolveDepartmentAsync(source, department.ParentRef, "parent", cancellationToken);

        return await db.InTransactionAsync(async () =>
        {
            Department result;
            IntakeOutcome outcome;
            if (existing is null)
            {
                var code = department.Code ?? department.ExternalId ?? $"dept-{Guid.NewGuid():N}"[..13];
                result = await departments.CreateAsync(new DepartmentInput(code, department.Name, parentId), cancellationToken);
                outcome = IntakeOutcome.Created;
            }
            else
            {
                result = await departments.UpdateAsync(existing.Id, new DepartmentInput(department.Code ?? existing.Code, department.Name, parentId),
                    expectedRevision: null, cancellationToken);
                outcome = result.UpdatedAt != existing.UpdatedAt ? IntakeOutcome.Updated : IntakeOutcome.Unchanged;
            }

            var tracked = await db.Departments.SingleAsync(d => d.Id == result.Id, cancellationToken);
            if (tracked.SourceId != source.Id || (department.ExternalId is not null && tracked.ExternalId != department.ExternalId))
            {
                tracked.SourceId = source.Id;
                tracked.ExternalId = department.ExternalId ?? tracked.ExternalId;
                await db.SaveChangesAsync(cancellationToken);
            }

            return new IntakeResult<Department>(tracked, outcome);
        }, cancellationToken);
    }

    /// <summary>The source no longer has the department: deleted as an administrator would, refused while people or rights still hang on it.</summary>
    public async Task RemoveDepartmentAsync(InboundSource source, Guid departmentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        await ActAsAsync(source, cancellationToken);
        var department = await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Id == departmentId, cancellationToken)
            ?? throw RuleViolation.NotFound("department", departmentId);
        await EnsureSourceOfAsync(source, department.SourceId, department.Name, cancellationToken);
        await departments.DeleteAsync(departmentId, expectedRevision: null, cancellationToken);
    }

    /// <summary>The person a source record means: by the source's own id, else by employee number (the company-wide idempotency key).</summary>
    public async Task<UserAccount?> FindPersonAsync(InboundSource source, SourcePerson person, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(person);
        if (person.ExternalId is { Length: > 0 } externalId
            && await db.Users.SingleOrDefaultAsync(u => u.SourceId == source.Id && u.ExternalId == externalId, cancellationToken) is { } byExternalId)
        {
            return byExternalId;
        }

        var employeeNumber = person.EmployeeNumber?.Trim();
        return string.IsNullOrEmpty(employeeNumber) ? null : await db.Users.SingleOrDefaultAsync(u => u.EmployeeNumber == employeeNumber, cancellationToken);
    }

    /// <summary>The department a source record means: by the source's own id, else by its code.</summary>
    public async Task<Department?> FindDepartmentAsync(InboundSource source, SourceDepartment department, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(department);
        if (department.ExternalId is { Length: > 0 } externalId
            && await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.SourceId == source.Id && d.ExternalId == externalId, cancellationToken) is { } found)
        {
            return found;
        }

        var code = department.Code ?? department.ExternalId;
        return code is null ? null : await db.Departments.AsNoTracking().SingleOrDefaultAsync(d => d.Code == code, cancellationToken);
    }

    private async Task ActAsAsync(InboundSource source, CancellationToken cancellationToken)
    {
        if (!source.Enabled)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, $"The source '{source.Name}' is disabled.", "inbound.disabled", source.Name);
        }

        if (actor.Value.SourceId != source.Id)
        {
            actor.Value = await SourceActor.ForAsync(db, source, cancellationToken);
        }
    }

    private async Task EnsureSourceOfAsync(InboundSource source, Guid? owner, string? name, CancellationToken cancellationToken)
    {
        if (owner is not { } other || other == source.Id)
        {
            return;
        }

        var otherName = await db.InboundSources.Where(s => s.Id == other).Select(s => s.Name).SingleOrDefaultAsync(cancellationToken) ?? other.ToString();
        throw RuleViolation.Coded(ViolationKind.Conflict, $"'{name}' comes from the source '{otherName}'; only that source changes it.",
            "inbound.otherSource", name ?? "", otherName);
    }

    /// <summary>A new top-level department of a source goes under its subtree when it has exactly one; otherwise the parent must be named.</summary>
    private async Task<Guid?> DefaultParentAsync(InboundSource source, CancellationToken cancellationToken)
    {
        var roots = await db.InboundSourceSubtrees.Where(t => t.SourceId == source.Id).Select(t => t.DepartmentId).ToListAsync(cancellationToken);
        return roots.Count == 1
            ? roots[0]
            : throw RuleViolation.Field("parent", $"The source '{source.Name}' writes into several subtrees; name the new department's parent.",
                ViolationKind.Invalid, "inbound.parentRequired", source.Name);
    }

    private async Task<Guid?> ResolveDepartmentAsync(InboundSource source, string? reference, string field, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            return null;
        }

        var found = Guid.TryParse(reference, out var id) && await db.Departments.AnyAsync(d => d.Id == id, cancellationToken) ? id
            : await db.Departments.Where(d => d.SourceId == source.Id && d.ExternalId == reference).Select(d => (Guid?)d.Id).SingleOrDefaultAsync(cancellationToken)
            ?? await db.Departments.Where(d => d.Code == reference).Select(d => (Guid?)d.Id).SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            var byName = await db.Departments.Where(d => d.Name == reference).Select(d => d.Id).Take(2).ToListAsync(cancellationToken);
            found = byName.Count == 1 ? byName[0] : null;
        }

        return found ?? throw RuleViolation.Field(field, $"No department is known as '{reference}' (by id, by this source's id, by code or by name).",
            ViolationKind.Invalid, "inbound.unknownDepartment", reference);
    }

    /// <summary>The manager's id, or (null, the reference) when they are not in yet: linked when they arrive.</summary>
    private async Task<(string? Id, string? Pending)> ResolveManagerAsync(InboundSource source, string? reference, string? userId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            return (null, null);
        }

        var id = await db.Users.Where(u => u.Id == reference).Select(u => u.Id).SingleOrDefaultAsync(cancellationToken)
            ?? await db.Users.Where(u => u.EmployeeNumber == reference).Select(u => u.Id).SingleOrDefaultAsync(cancellationToken)
            ?? await db.Users.Where(u => u.SourceId == source.Id && u.ExternalId == reference).Select(u => u.Id).SingleOrDefaultAsync(cancellationToken);
        if (id is not null && id == userId)
        {
            throw RuleViolation.Field("manager", "A person cannot be their own manager.");
        }

        return id is null ? (null, reference) : (id, null);
    }

    private async Task<IntakeOutcome> ApplyActiveAsync(UserAccount user, bool active, IntakeOutcome outcome, CancellationToken cancellationToken)
    {
        if (!active && user.Status == UserStatus.Active)
        {
            await directory.SuspendAsync(user.Id, "Inactive in the source.", cancellationToken);
            return outcome == IntakeOutcome.Created ? outcome : IntakeOutcome.Updated;
        }

        if (active && user.Status == UserStatus.Suspended)
        {
            await directory.ReactivateAsync(user.Id, cancellationToken);
            return IntakeOutcome.Updated;
        }

        if (active && user.Status == UserStatus.Left)
        {
            throw RuleViolation.Coded(ViolationKind.Conflict,
                $"'{user.UserName}' has left the company; a returning person needs a new account (a new id in the source).", "inbound.returned", user.UserName ?? user.Id);
        }

        return outcome;
    }

    /// <summary>People of this source who named <paramref name="manager"/> before they arrived now report to them.</summary>
    private async Task LinkWaitingReportsAsync(InboundSource source, UserAccount manager, CancellationToken cancellationToken)
    {
        string[] keys = [.. new[] { manager.Id, manager.EmployeeNumber, manager.ExternalId }.OfType<string>()];
        var waiting = await db.Users.Where(u => u.SourceId == source.Id && u.PendingManagerRef != null && keys.Contains(u.PendingManagerRef))
            .ToListAsync(cancellationToken);
        foreach (var report in waiting)
        {
            await directory.UpdateAsync(report.Id, new UserInput(
                report.UserName, report.DisplayName, report.Email, report.PhoneNumber, report.EmployeeNumber, report.DepartmentId, manager.Id),
                expectedRevision: null, cancellationToken);
            report.PendingManagerRef = null;
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    private static void ValidateReferences(SourcePerson person)
    {
        var errors = new FieldErrors();
        foreach (var (field, value) in new[] { ("externalId", person.ExternalId), ("department", person.DepartmentRef), ("manager", person.ManagerRef) })
        {
            if (value is { Length: > ReferenceMaxLength })
            {
                errors.Add(field, $"A reference may have up to {ReferenceMaxLength} characters.");
            }
        }

        if (string.IsNullOrWhiteSpace(person.UserName) && string.IsNullOrWhiteSpace(person.EmployeeNumber) && string.IsNullOrWhiteSpace(person.ExternalId))
        {
            errors.Add("userName", "A person needs a user name, an employee number or the source's id for them.");
        }

        errors.ThrowIfAny();
    }
}

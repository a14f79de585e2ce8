using System.Net.Mail;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Inbound;
using IdentityHub.Core.Sessions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Directory;

public sealed record UserInput(
    string? UserName, string? DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber, Guid? DepartmentId, string? ManagerId);

/// <summary>What the audit trail keeps of a user (never the password hash or the security stamp).</summary>
public sealed record UserSnapshot(
    string Id, string UserName, string DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber, Guid? DepartmentId, string? ManagerId, string Status)
{
    public static UserSnapshot Of(UserAccount u) =>
        new(u.Id, u.UserName ?? "", u.DisplayName, u.Email, u.PhoneNumber, u.EmployeeNumber, u.DepartmentId, u.ManagerId, u.Status.ToString());
}

/// <summary>The people in the directory: create and edit, suspend, mark as left (everything they held ends), end sessions.</summary>
public sealed partial class UserDirectory(
    IdentityHubDbContext db, UserManager<UserAccount> users, IUserStore<UserAccount> userStore, RoleManager<IdentityRole> identityRoles,
    RoleAssignments assignments, EntitlementChanges changes, AuditTrail audit, Delegation delegation, AttributeOwnership ownership, CurrentActor actor,
    BrowserSessions sessions, AccountRecovery recovery, Mail.MailSignal mailSignal, TimeProvider clock)
{
    public const int DisplayNameMaxLength = 200;
    public const int EmployeeNumberMaxLength = 64;

    public Task<UserAccount> CreateAsync(UserInput input, string? initialPassword, CancellationToken cancellationToken) =>
        CreateAsync(input, initialPassword, invite: false, cancellationToken);

    /// <summary>Creates the user; with <paramref name="invite"/> their invitation mail is queued in the same transaction.</summary>
    public Task<UserAccount> CreateAsync(UserInput input, string? initialPassword, bool invite, CancellationToken cancellationToken) =>
        CreateAsync(input, initialPassword, invite, invitationCause: null, cancellationToken);

    /// <summary>
    /// Creates the user; with <paramref name="invite"/> their invitation mail is queued in the same transaction, audited with
    /// <paramref name="invitationCause"/> (an import, a source). Inside a caller's transaction the caller wakes the mail
    /// sender after its commit: woken earlier, it would find nothing yet.
    /// </summary>
    public async Task<UserAccount> CreateAsync(UserInput input, string? initialPassword, bool invite, string? invitationCause, CancellationToken cancellationToken)
    {
        var user = await NewUserAsync(input, invite, known: null, cancellationToken);
        var ownsTransaction = db.Database.CurrentTransaction is null;
        var result = await db.InTransactionAsync(async () =>
        {
            var created = initialPassword is null ? await users.CreateAsync(user) : await users.CreateAsync(user, initialPassword);
            ThrowIfFailed(created, initialPassword is null ? "userName" : "initialPassword");
            await audit.RecordAsync("user.created", "user", user.Id, null, UserSnapshot.Of(user), cancellationToken);
            await changes.UsersChangedAsync([user.Id], "user.created", cancellationToken);
            if (invite)
            {
                await recovery.QueueInvitationAsync(user, invitationCause, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            return user;
        }, cancellationToken);
        if (invite && ownsTransaction)
        {
            mailSignal.Notify();
        }

        return result;
    }

    /// <summary>
    /// Loads what <see cref="CreateInBatchAsync"/> checks a batch's rows against: every department, and who holds the
    /// batch's user names and employee numbers (managers' numbers too). Call it inside the batch's transaction.
    /// </summary>
    public async Task<KnownDirectory> LoadKnownAsync(IEnumerable<string> userNames, IEnumerable<string> employeeNumbers, CancellationToken cancellationToken)
    {
        var names = userNames.Select(n => users.NormalizeName(n.Trim())).Distinct(StringComparer.Ordinal).ToList();
        var numbers = employeeNumbers.Select(n => n.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var departments = await db.Departments.AsNoTracking().ToDictionaryAsync(d => d.Id, cancellationToken);
        var named = await db.Users.AsNoTracking().Where(u => names.Contains(u.NormalizedUserName!))
            .Select(u => new { u.Id, u.NormalizedUserName }).ToListAsync(cancellationToken);
        var numbered = await db.Users.AsNoTracking().Where(u => u.EmployeeNumber != null && numbers.Contains(u.EmployeeNumber))
            .Select(u => new { u.Id, u.EmployeeNumber }).ToListAsync(cancellationToken);
        return new KnownDirectory(departments, names, named.Select(u => (u.Id, u.NormalizedUserName!)), numbers, numbered.Select(u => (u.Id, u.EmployeeNumber!)));
    }

    /// <summary>
    /// Creates a user in a batch (a CSV import), inside the caller's transaction, with every rule of
    /// <see cref="CreateAsync(UserInput, string?, bool, string?, CancellationToken)"/> checked the same way, the look-ups
    /// answered by <paramref name="known"/>. Nothing is saved: the caller saves the batch, then calls
    /// <see cref="QueueCreatedAsync"/> for its outbox rows (a connector's audience is read from the saved users).
    /// A refused row adds nothing to the unit of work.
    /// </summary>
    public async Task<UserAccount> CreateInBatchAsync(UserInput input, KnownDirectory known, bool invite, string? invitationCause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(known);
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("A batch of users is created inside the caller's transaction.");
        }

        var user = await NewUserAsync(input, invite, known, cancellationToken);
        ThrowIfFailed(await CreateUnsavedAsync(user), "userName");
        await audit.RecordAsync("user.created", "user", user.Id, null, UserSnapshot.Of(user), cancellationToken);
        if (invite)
        {
            await recovery.QueueInvitationAsync(user, invitationCause, cancellationToken);
        }

        known.Saw(user);
        return user;
    }

    /// <summary>The outbox rows of users created by <see cref="CreateInBatchAsync"/>, once they are saved, in the order they were created.</summary>
    public Task QueueCreatedAsync(IReadOnlyCollection<string> userIds, CancellationToken cancellationToken) =>
        changes.UsersChangedAsync(userIds, "user.created", cancellationToken);

    public async Task<UserAccount> UpdateAsync(string id, UserInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var user = await FindAsync(id, cancellationToken);
        Revision.Check("user", user.UpdatedAt, expectedRevision);
        var errors = await ValidateAsync(input, id, cancellationToken);
        errors.ThrowIfAny();
        await delegation.EnsureUserInsideAsync(user, cancellationToken);
        if (input.DepartmentId != user.DepartmentId)
        {
            await delegation.EnsureInsideAsync(input.DepartmentId, "departmentId", cancellationToken);
        }

        if (!string.Equals(input.UserName!.Trim(), user.UserName, StringComparison.Ordinal))
        {
            await delegation.EnsureMayManageAdministratorAsync(user, "user name");
        }

        await EnsureUniqueAsync(input, id, cancellationToken);

        var before = UserSnapshot.Of(user);
        Apply(user, input);
        if (before == UserSnapshot.Of(user))
        {
            return user;
        }

        return await SaveUpdateAsync(user, before, cancellationToken);
    }

    /// <summary>Saves an edited user with its audit event and the outbox rows, in one transaction (the source's attributes stay its own).</summary>
    private async Task<UserAccount> SaveUpdateAsync(UserAccount user, UserSnapshot before, CancellationToken cancellationToken)
    {
        var id = user.Id;
        user.UpdatedAt = Revision.After(user.UpdatedAt, clock);
        return await db.InTransactionAsync(async () =>
        {
            await ownership.CheckAsync(user.SourceId, id, before, UserSnapshot.Of(user), cancellationToken);
            ThrowIfFailed(await users.UpdateAsync(user), "userName");
            await audit.RecordAsync("user.updated", "user", id, before, UserSnapshot.Of(user), cancellationToken);
            await changes.UsersChangedAsync([id], "user.updated", cancellationToken);
            if (before.EmployeeNumber != user.EmployeeNumber)
            {
                // Reports carry their manager's employee number downstream.
                await changes.ReportsChangedAsync([id], applicationIds: null, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
            return user;
        }, cancellationToken);
    }

    /// <summary>A suspended user cannot sign in and loses their sessions and tokens; their assignments stay.</summary>
    public Task<UserAccount> SuspendAsync(string id, string? reason, CancellationToken cancellationToken) =>
        SuspendAsync(id, reason, expectedRevision: null, cancellationToken);

    /// <inheritdoc cref="SuspendAsync(string, string?, CancellationToken)"/>
    public Task<UserAccount> SuspendAsync(string id, string? reason, long? expectedRevision, CancellationToken cancellationToken) =>
        ChangeStatusAsync(id, UserStatus.Suspended, "user.suspended", reason, expectedRevision, cancellationToken);

    public Task<UserAccount> ReactivateAsync(string id, CancellationToken cancellationToken) =>
        ReactivateAsync(id, expectedRevision: null, cancellationToken);

    public Task<UserAccount> ReactivateAsync(string id, long? expectedRevision, CancellationToken cancellationToken) =>
        ChangeStatusAsync(id, UserStatus.Active, "user.reactivated", reason: null, expectedRevision, cancellationToken);

    /// <summary>Someone who left: disabled for good, signed out everywhere, every assignment ended.</summary>
    public Task<UserAccount> MarkLeftAsync(string id, string? reason, CancellationToken cancellationToken) =>
        MarkLeftAsync(id, reason, expectedRevision: null, cancellationToken);

    /// <inheritdoc cref="MarkLeftAsync(string, string?, CancellationToken)"/>
    public Task<UserAccount> MarkLeftAsync(string id, string? reason, long? expectedRevision, CancellationToken cancellationToken) =>
        ChangeStatusAsync(id, UserStatus.Left, "user.left", reason, expectedRevision, cancellationToken);

    /// <summary>Ends the user's browser sessions (the security stamp changes) and revokes their tokens.</summary>
    public async Task EndSessionsAsync(string id, CancellationToken cancellationToken)
    {
        // Sessions and tokens are the security administrator's (issue 6); a status change ends them as a consequence.
        if (!actor.Value.IsSuperAdmin && !actor.Value.Holds(AdminRoles.SecurityAdmin))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators and security administrators may end sessions.", "delegation.sessionsOnly");
        }

        var user = await FindAsync(id, cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            var (ended, revoked) = await EndSessionsOfAsync(user, UserSessionEndReasons.EndedByAdministrator, cancellationToken);
            await audit.RecordAsync("user.sessions-ended", "user", id, null, new { endedSessions = ended, revokedTokens = revoked }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Sets a user's admin roles and the department subtrees they administer; only a super admin may.</summary>
    public async Task SetAdminRolesAsync(string id, IReadOnlyCollection<string> roles, IReadOnlyCollection<Guid> administeredDepartments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(administeredDepartments);
        if (!actor.Value.IsSuperAdmin)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only a super administrator may change administrator roles.", "delegation.adminRolesOnly");
        }

        var errors = new FieldErrors();
        foreach (var role in roles.Where(r => !AdminRoles.All.Contains(r)))
        {
            errors.Add("roles", $"'{role}' is not an administrator role; use one of {string.Join(", ", AdminRoles.All)}.");
        }

        var departments = administeredDepartments.Distinct().ToList();
        var known = await db.Departments.Where(d => departments.Contains(d.Id)).Select(d => d.Id).ToListAsync(cancellationToken);
        foreach (var missing in departments.Except(known))
        {
            errors.Add("administeredDepartments", $"No department with id '{missing}'.");
        }

        errors.ThrowIfAny();
        var user = await FindAsync(id, cancellationToken);
        var current = await users.GetRolesAsync(user);
        var held = current.Where(AdminRoles.All.Contains).ToHashSet(StringComparer.Ordinal);
        var wanted = roles.ToHashSet(StringComparer.Ordinal);
        var removed = held.Except(wanted).ToList();
        var previous = await db.AdministeredDepartments.Where(a => a.UserId == id).ToListAsync(cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            if (removed.Contains(AdminRoles.SuperAdmin) && user.Status == UserStatus.Active)
            {
                await EnsureNotLastSuperAdminAsync(user, "roles", cancellationToken);
            }

            foreach (var role in wanted.Where(r => !held.Contains(r)))
            {
                if (!await identityRoles.RoleExistsAsync(role))
                {
                    ThrowIfFailed(await identityRoles.CreateAsync(new IdentityRole(role)), "roles");
                }
            }

            ThrowIfFailed(await users.RemoveFromRolesAsync(user, removed), "roles");
            ThrowIfFailed(await users.AddToRolesAsync(user, wanted.Except(held)), "roles");
            // A demoted administrator's tokens and console session carry the old roles: revoke them, so the
            // admin API refuses the tokens now and the cookie fails its next security-stamp check.
            var revoked = removed.Count > 0 ? (await EndSessionsOfAsync(user, UserSessionEndReasons.AdminRolesRemoved, cancellationToken)).RevokedTokens : 0;
            db.AdministeredDepartments.RemoveRange(previous);
            db.AdministeredDepartments.AddRange(departments.Select(d => new AdministeredDepartment { UserId = id, DepartmentId = d }));
            await audit.RecordAsync("user.admin-roles-changed", "user", id,
                new { roles = held.Order(), departments = previous.Select(p => p.DepartmentId).Order() },
                new { roles = wanted.Order(), departments = departments.Order(), revokedTokens = revoked }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    private async Task<UserAccount> ChangeStatusAsync(
        string id, UserStatus status, string eventType, string? reason, long? expectedRevision, CancellationToken cancellationToken)
    {
        var user = await FindAsync(id, cancellationToken);
        Revision.Check("user", user.UpdatedAt, expectedRevision);
        await delegation.EnsureUserInsideAsync(user, cancellationToken);
        await delegation.EnsureMayManageAdministratorAsync(user, "status");
        if (user.Status == UserStatus.Left && status != UserStatus.Left)
        {
            throw new RuleViolation(ViolationKind.Conflict, $"'{user.UserName}' has left the company; create a new account instead of reactivating this one.");
        }

        if (user.Status == status)
        {
            return user;
        }

        var before = UserSnapshot.Of(user);
        var activeSuperAdmin = user.Status == UserStatus.Active && (await users.GetRolesAsync(user)).Contains(AdminRoles.SuperAdmin);
        user.Status = status;
        user.UpdatedAt = Revision.After(user.UpdatedAt, clock);
        return await db.InTransactionAsync(async () =>
        {
            if (activeSuperAdmin)
            {
                await EnsureNotLastSuperAdminAsync(user, "status", cancellationToken);
            }

            await ownership.CheckAsync(user.SourceId, id, before, UserSnapshot.Of(user), cancellationToken);

            if (status != UserStatus.Active)
            {
                // Revoking tokens is a security event of its own, recorded like an explicit end of sessions.
                var (ended, revoked) = await EndSessionsOfAsync(
                    user, status == UserStatus.Left ? UserSessionEndReasons.Left : UserSessionEndReasons.Suspended, cancellationToken);
                await audit.RecordAsync("user.sessions-ended", "user", id, null, new { endedSessions = ended, revokedTokens = revoked, because = eventType }, cancellationToken);
            }

            if (status == UserStatus.Left)
            {
                await assignments.EndAllForUserAsync(id, reason ?? "The user left the company.", cancellationToken);
            }

            ThrowIfFailed(await users.UpdateAsync(user), "status");
            await audit.RecordAsync(eventType, "user", id, before, UserSnapshot.Of(user), cancellationToken);
            await changes.UsersChangedAsync([id], eventType, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return user;
        }, cancellationToken);
    }

    /// <summary>
    /// Refuses to take the last active super administrator out of service (suspended, left or demoted): nobody could
    /// administer the administrators then. Runs in the change's transaction after taking the audit head's lock, so
    /// two super administrators taking each other out at once cannot both pass.
    /// </summary>
    private async Task EnsureNotLastSuperAdminAsync(UserAccount user, string field, CancellationToken cancellationToken)
    {
        await audit.SerializeAsync(cancellationToken);
        var others = (await users.GetUsersInRoleAsync(AdminRoles.SuperAdmin)).Count(u => u.Id != user.Id && u.Status == UserStatus.Active);
        if (others == 0)
        {
            throw RuleViolation.Field(field, $"'{user.UserName}' is the last active super administrator; make someone else a super administrator first.",
                ViolationKind.Conflict, "superAdmin.last", user.UserName ?? user.Id);
        }
    }

    /// <summary>Ends the user's browser sessions (each client that took part is owed a back-channel logout) and revokes their tokens.</summary>
    private async Task<(int EndedSessions, int RevokedTokens)> EndSessionsOfAsync(UserAccount user, string reason, CancellationToken cancellationToken)
    {
        var ended = await sessions.EndAllAsync(user.Id, reason, cancellationToken);
        // The security stamp too: a cookie from before server-side sessions, or of a session not recorded, fails its next check.
        await users.UpdateSecurityStampAsync(user);
        var revoked = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .Where(t => t.Subject == user.Id && t.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .Where(a => a.Subject == user.Id && a.Status != OpenIddictConstants.Statuses.Revoked)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, OpenIddictConstants.Statuses.Revoked), cancellationToken);
        return (ended, revoked);
    }

    /// <summary>Checks a new user's input (validation, delegation, uniqueness, in that order) and builds the account.</summary>
    private async Task<UserAccount> NewUserAsync(UserInput input, bool invite, KnownDirectory? known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = await ValidateAsync(input, existingId: null, cancellationToken, known);
        if (invite && string.IsNullOrWhiteSpace(input.Email))
        {
            errors.Add("email", "An invitation is sent by e-mail: enter the e-mail address.");
        }

        errors.ThrowIfAny();
        if (known is not null && input.DepartmentId is { } departmentId && known.Department(departmentId) is { } department)
        {
            await delegation.EnsureInsideAsync(department, "departmentId", cancellationToken);
        }
        else
        {
            await delegation.EnsureInsideAsync(input.DepartmentId, "departmentId", cancellationToken);
        }

        await EnsureUniqueAsync(input, existingId: null, cancellationToken, known);

        var now = Revision.Now(clock);
        var user = new UserAccount { CreatedAt = now, UpdatedAt = now };
        Apply(user, input);
        return user;
    }

    /// <summary>
    /// Identity's own creation (security stamp, its validators, normalized names) with the store's save left to the
    /// caller's batch (the scope's store is the manager's). A store other than Identity's EF store saves as it always does.
    /// </summary>
    private async Task<IdentityResult> CreateUnsavedAsync(UserAccount user)
    {
        if (userStore is not UserStore<UserAccount, IdentityRole, IdentityHubDbContext, string, IdentityUserClaim<string>, IdentityUserRole<string>,
            IdentityUserLogin<string>, IdentityUserToken<string>, IdentityRoleClaim<string>, IdentityUserPasskey<string>> store)
        {
            return await users.CreateAsync(user);
        }

        var autoSave = store.AutoSaveChanges;
        store.AutoSaveChanges = false;
        try
        {
            return await users.CreateAsync(user);
        }
        finally
        {
            store.AutoSaveChanges = autoSave;
        }
    }

    private async Task<UserAccount> FindAsync(string id, CancellationToken cancellationToken) =>
        await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("user", id);

    private static void Apply(UserAccount user, UserInput input)
    {
        user.UserName = input.UserName!.Trim();
        user.DisplayName = input.DisplayName!.Trim();
        user.Email = string.IsNullOrWhiteSpace(input.Email) ? null : input.Email.Trim();
        user.PhoneNumber = string.IsNullOrWhiteSpace(input.PhoneNumber) ? null : input.PhoneNumber.Trim();
        user.EmployeeNumber = string.IsNullOrWhiteSpace(input.EmployeeNumber) ? null : input.EmployeeNumber.Trim();
        user.DepartmentId = input.DepartmentId;
        user.ManagerId = string.IsNullOrWhiteSpace(input.ManagerId) ? null : input.ManagerId;
    }

    private async Task<FieldErrors> ValidateAsync(UserInput input, string? existingId, CancellationToken cancellationToken, KnownDirectory? known = null)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(input.UserName))
        {
            errors.Add("userName", "A user name is required.");
        }
        else if (input.UserName.Trim().Length > 256 || input.UserName.Trim().Any(c => !users.Options.User.AllowedUserNameCharacters.Contains(c)))
        {
            errors.Add("userName", "The user name may have up to 256 letters, digits and the characters - . _ @ +.");
        }

        if (string.IsNullOrWhiteSpace(input.DisplayName))
        {
            errors.Add("displayName", "A display name is required.");
        }
        else if (input.DisplayName.Trim().Length > DisplayNameMaxLength)
        {
            errors.Add("displayName", $"The display name may have up to {DisplayNameMaxLength} characters.");
        }

        if (!string.IsNullOrWhiteSpace(input.Email) && !(MailAddress.TryCreate(input.Email.Trim(), out var mail) && mail.Address == input.Email.Trim()))
        {
            errors.Add("email", $"'{input.Email}' is not an email address.");
        }

        if (input.PhoneNumber is { Length: > 32 })
        {
            errors.Add("phoneNumber", "The phone number may have up to 32 characters.");
        }

        if (input.EmployeeNumber?.Trim() is { Length: > EmployeeNumberMaxLength })
        {
            errors.Add("employeeNumber", $"The employee number may have up to {EmployeeNumberMaxLength} characters.");
        }

        if (input.DepartmentId is { } departmentId
            && (known?.Department(departmentId) is null && !await db.Departments.AnyAsync(d => d.Id == departmentId, cancellationToken)))
        {
            errors.Add("departmentId", $"No department with id '{departmentId}'.");
        }

        if (!string.IsNullOrWhiteSpace(input.ManagerId))
        {
            if (input.ManagerId == existingId)
            {
                errors.Add("managerId", "A user cannot be their own manager.");
            }
            else if (known?.UserExists(input.ManagerId) is null && !await db.Users.AnyAsync(u => u.Id == input.ManagerId, cancellationToken))
            {
                errors.Add("managerId", $"No user with id '{input.ManagerId}'.");
            }
            else if (existingId is not null && await ReportsToAsync(input.ManagerId, existingId, cancellationToken))
            {
                errors.Add("managerId", "That manager reports to this user (directly or further up); a reporting line cannot go round in a loop.");
            }
        }

        return errors;
    }

    /// <summary>Whether <paramref name="userId"/> is <paramref name="managerId"/> or anyone above them in the reporting line.</summary>
    private async Task<bool> ReportsToAsync(string managerId, string userId, CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (string? current = managerId; current is not null && seen.Add(current);)
        {
            if (current == userId)
            {
                return true;
            }

            var id = current;
            current = await db.Users.Where(u => u.Id == id).Select(u => u.ManagerId).SingleOrDefaultAsync(cancellationToken);
        }

        return false;
    }

    private async Task EnsureUniqueAsync(UserInput input, string? existingId, CancellationToken cancellationToken, KnownDirectory? known = null)
    {
        var normalized = users.NormalizeName(input.UserName!.Trim());
        if (known?.NameTaken(normalized, existingId)
            ?? await db.Users.AnyAsync(u => u.NormalizedUserName == normalized && u.Id != existingId, cancellationToken))
        {
            throw RuleViolation.Field("userName", $"The user name '{input.UserName!.Trim()}' is taken.", ViolationKind.Conflict);
        }

        var employeeNumber = input.EmployeeNumber?.Trim();
        if (!string.IsNullOrEmpty(employeeNumber)
            && (known?.EmployeeNumberTaken(employeeNumber, existingId)
                ?? await db.Users.AnyAsync(u => u.EmployeeNumber == employeeNumber && u.Id != existingId, cancellationToken)))
        {
            throw RuleViolation.Field("employeeNumber", $"Employee number '{employeeNumber}' already belongs to another user.", ViolationKind.Conflict,
                "user.employeeNumberTaken", employeeNumber);
        }
    }

    private static void ThrowIfFailed(IdentityResult result, string field)
    {
        if (!result.Succeeded)
        {
            throw new RuleViolation(ViolationKind.Invalid, string.Join(" ", result.Errors.Select(e => e.Description)),
                new Dictionary<string, string[]> { [field] = [.. result.Errors.Select(e => e.Description)] });
        }
    }
}

using IdentityHub.Core.Audit;
using IdentityHub.Core.Mail;
using IdentityHub.Core.Sessions;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Directory;

/// <summary>The token providers and purposes of the links mailed to people; the host registers the providers with their lifespans.</summary>
public static class AccountTokens
{
    public const string InvitationProvider = "Invitation";
    public const string InvitationPurpose = "invitation";
    public const string ResetProvider = "PasswordReset";
    public const string ResetPurpose = "reset";

    public const string InvitationPath = "/account/invitation";
    public const string ResetPath = "/account/reset";

    public static string Link(string path, string userId, string token) =>
        $"{path}?user={Uri.EscapeDataString(userId)}&token={Uri.EscapeDataString(token)}";
}

/// <summary>The mail templates (<c>themes/&lt;name&gt;/email/&lt;template&gt;.liquid</c>).</summary>
public static class MailTemplates
{
    public const string Invitation = "invitation";
    public const string PasswordReset = "reset";

    /// <summary>The prefix of a mail's texts in <c>email/messages.*.json</c>; its subject is <c>&lt;prefix&gt;.subject</c>.</summary>
    public static string TextPrefix(string template) => template == Invitation ? "invite" : template;
}

/// <summary>
/// How a person gets (back) into their account: invitation to set the first password, forgot-password, a temporary password
/// an administrator sets, unlock. The links are ASP.NET Core Identity tokens bound to the security stamp, so setting a
/// password (which changes the stamp) spends every link issued before it.
/// </summary>
public sealed class AccountRecovery(
    IdentityHubDbContext db, UserManager<UserAccount> users, MailOutbox mail, MailSignal signal, AccountMailSettings settings,
    AuditTrail audit, Delegation delegation, BrowserSessions sessions, TimeProvider clock)
{
    /// <summary>Mails <paramref name="userId"/> a new invitation link (an administrator's action: delegation applies).</summary>
    public async Task InviteAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await FindForAdministratorAsync(userId, "invitation", cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            await QueueInvitationAsync(user, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        signal.Notify();
    }

    /// <summary>
    /// Queues the invitation mail in the caller's unit of work (creating a user with an invitation calls it in the creation's
    /// transaction) and audits it; the caller saves.
    /// </summary>
    public Task QueueInvitationAsync(UserAccount user, CancellationToken cancellationToken) => QueueInvitationAsync(user, cause: null, cancellationToken);

    /// <summary>
    /// As <see cref="QueueInvitationAsync(UserAccount, CancellationToken)"/>; <paramref name="cause"/> names what sent it
    /// when it was not an administrator's own request (<c>import:users</c>, <c>source:&lt;id&gt;</c>) and is kept in the audit event.
    /// </summary>
    public async Task QueueInvitationAsync(UserAccount user, string? cause, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrWhiteSpace(user.Email))
        {
            throw RuleViolation.Field("email", $"'{user.UserName}' has no e-mail address; add one before sending an invitation.",
                ViolationKind.Invalid, "invite.noEmail", user.UserName ?? user.Id);
        }

        if (user.Status != UserStatus.Active)
        {
            throw RuleViolation.Coded(ViolationKind.Conflict, $"'{user.UserName}' is not active; reactivate the account before inviting.", "invite.notActive");
        }

        var token = await users.GenerateUserTokenAsync(user, AccountTokens.InvitationProvider, AccountTokens.InvitationPurpose);
        mail.Enqueue(user.Email, user.DisplayName, MailTemplates.Invitation, LocaleOf(user), new Dictionary<string, string>
        {
            ["displayName"] = user.DisplayName,
            ["userName"] = user.UserName ?? "",
            ["link"] = AccountTokens.Link(AccountTokens.InvitationPath, user.Id, token),
            ["expiresAt"] = (clock.GetUtcNow() + settings.InvitationLifetime).ToString("O"),
        }, user.Id);
        object after = cause is null ? new { email = user.Email } : new { email = user.Email, cause };
        await audit.RecordAsync("user.invited", "user", user.Id, null, after, cancellationToken);
    }

    /// <summary>
    /// Forgot-password: mails a reset link to every active account whose user name or e-mail address is
    /// <paramref name="nameOrEmail"/>; nothing is said about whether there was one.
    /// </summary>
    public async Task RequestResetAsync(string nameOrEmail, CancellationToken cancellationToken)
    {
        var text = nameOrEmail.Trim();
        if (text.Length is 0 or > 256)
        {
            return;
        }

        var normalizedName = users.NormalizeName(text);
        var normalizedEmail = users.NormalizeEmail(text);
        var found = await db.Users
            .Where(u => (u.NormalizedUserName == normalizedName || u.NormalizedEmail == normalizedEmail) && u.Status == UserStatus.Active && u.Email != null)
            .Take(5)
            .ToListAsync(cancellationToken);
        if (found.Count == 0)
        {
            await audit.RecordEventAsync("account.password-reset-requested", null, null, new { known = false }, cancellationToken);
            return;
        }

        await db.InTransactionAsync(async () =>
        {
            foreach (var user in found)
            {
                var token = await users.GenerateUserTokenAsync(user, AccountTokens.ResetProvider, AccountTokens.ResetPurpose);
                mail.Enqueue(user.Email!, user.DisplayName, MailTemplates.PasswordReset, LocaleOf(user), new Dictionary<string, string>
                {
                    ["displayName"] = user.DisplayName,
                    ["userName"] = user.UserName ?? "",
                    ["link"] = AccountTokens.Link(AccountTokens.ResetPath, user.Id, token),
                    ["expiresAt"] = (clock.GetUtcNow() + settings.ResetLifetime).ToString("O"),
                }, user.Id);
                await audit.RecordAsync("account.password-reset-requested", "user", user.Id, null, new { email = user.Email }, cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        signal.Notify();
    }

    /// <summary>Whether the link's token is good now (not expired, not spent, for this purpose); the page checks before showing the form.</summary>
    public async Task<UserAccount?> CheckLinkAsync(string? userId, string? token, LinkKind kind)
    {
        if (string.IsNullOrEmpty(userId) || string.IsNullOrEmpty(token) || await users.FindByIdAsync(userId) is not { Status: UserStatus.Active } user)
        {
            return null;
        }

        var (provider, purpose) = Of(kind);
        return await users.VerifyUserTokenAsync(user, provider, purpose, token) ? user : null;
    }

    /// <summary>
    /// Sets the password through a mailed link: the first one (invitation) or a new one (reset). The stamp changes, so the
    /// link and every other one issued before are spent, and the person's sessions end.
    /// </summary>
    public async Task<UserAccount> SetPasswordByLinkAsync(string? userId, string? token, LinkKind kind, string password, CancellationToken cancellationToken)
    {
        var user = await CheckLinkAsync(userId, token, kind)
            ?? throw RuleViolation.Coded(ViolationKind.Invalid, "The link has expired or was used already; ask for a new one.", "reset.linkInvalid");
        await ValidatePasswordAsync(user, password, "password");
        await db.InTransactionAsync(async () =>
        {
            user.PasswordHash = users.PasswordHasher.HashPassword(user, password);
            user.MustChangePassword = false;
            // Following a mailed link proves the address.
            user.EmailConfirmed = true;
            await sessions.EndAllAsync(user.Id, UserSessionEndReasons.PasswordChanged, cancellationToken);
            ThrowIfFailed(await users.UpdateSecurityStampAsync(user), "password");
            await audit.RecordAsync(kind == LinkKind.Invitation ? "account.invitation-accepted" : "account.password-reset", "user", user.Id, null, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return user;
    }

    /// <summary>
    /// An administrator sets a password; with <paramref name="mustChange"/> the person has to choose their own at the next
    /// sign-in before anything else. Their sessions end.
    /// </summary>
    public async Task SetPasswordAsync(string userId, string password, bool mustChange, CancellationToken cancellationToken)
    {
        var user = await FindForAdministratorAsync(userId, "password", cancellationToken);
        await ValidatePasswordAsync(user, password, "password");
        await db.InTransactionAsync(async () =>
        {
            user.PasswordHash = users.PasswordHasher.HashPassword(user, password);
            user.MustChangePassword = mustChange;
            await sessions.EndAllAsync(user.Id, UserSessionEndReasons.PasswordChanged, cancellationToken);
            ThrowIfFailed(await users.UpdateSecurityStampAsync(user), "password");
            await audit.RecordAsync("user.password-set", "user", user.Id, null, new { mustChange }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>The person replaces a temporary password (or changes theirs): the current one is required.</summary>
    public async Task ChangePasswordAsync(string userId, string currentPassword, string newPassword, CancellationToken cancellationToken)
    {
        var user = await users.FindByIdAsync(userId) ?? throw RuleViolation.NotFound("user", userId);
        if (!await users.CheckPasswordAsync(user, currentPassword))
        {
            throw RuleViolation.Field("currentPassword", "The current password is not right.", ViolationKind.Invalid, "password.currentWrong");
        }

        if (string.Equals(currentPassword, newPassword, StringComparison.Ordinal))
        {
            throw RuleViolation.Field("newPassword", "Choose a password different from the current one.", ViolationKind.Invalid, "password.same");
        }

        await ValidatePasswordAsync(user, newPassword, "newPassword");
        await db.InTransactionAsync(async () =>
        {
            user.PasswordHash = users.PasswordHasher.HashPassword(user, newPassword);
            user.MustChangePassword = false;
            ThrowIfFailed(await users.UpdateSecurityStampAsync(user), "newPassword");
            await audit.RecordAsync("account.password-changed", "user", user.Id, null, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Ends a lockout now and clears the failure count.</summary>
    public async Task UnlockAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await FindForAdministratorAsync(userId, "lockout", cancellationToken);
        var before = user.LockoutEnd;
        await db.InTransactionAsync(async () =>
        {
            user.LockoutEnd = null;
            user.AccessFailedCount = 0;
            ThrowIfFailed(await users.UpdateAsync(user), "lockout");
            await audit.RecordAsync("user.unlocked", "user", user.Id, new { lockedUntil = before }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    private string LocaleOf(UserAccount user) => user.PreferredLocale is { Length: > 0 } locale ? locale : settings.DefaultLocale;

    private async Task<UserAccount> FindForAdministratorAsync(string userId, string change, CancellationToken cancellationToken)
    {
        delegation.EnsureDirectoryAdministrator();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw RuleViolation.NotFound("user", userId);
        await delegation.EnsureUserInsideAsync(user, cancellationToken);
        await delegation.EnsureMayManageAdministratorAsync(user, change);
        return user;
    }

    private async Task ValidatePasswordAsync(UserAccount user, string password, string field)
    {
        if (string.IsNullOrEmpty(password))
        {
            throw RuleViolation.Field(field, "Enter a password.", ViolationKind.Invalid, "password.required");
        }

        foreach (var validator in users.PasswordValidators)
        {
            ThrowIfFailed(await validator.ValidateAsync(users, user, password), field);
        }
    }

    private static (string Provider, string Purpose) Of(LinkKind kind) => kind == LinkKind.Invitation
        ? (AccountTokens.InvitationProvider, AccountTokens.InvitationPurpose)
        : (AccountTokens.ResetProvider, AccountTokens.ResetPurpose);

    private static void ThrowIfFailed(IdentityResult result, string field)
    {
        if (!result.Succeeded)
        {
            throw new RuleViolation(ViolationKind.Invalid, string.Join(" ", result.Errors.Select(e => e.Description)),
                new Dictionary<string, string[]> { [field] = [.. result.Errors.Select(e => e.Description)] });
        }
    }
}

public enum LinkKind
{
    Invitation,
    Reset,
}

using IdentityHub.Core.Sessions;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Core.Directory;

/// <summary>What a person changes on their own profile page; a field left null is not being changed.</summary>
public sealed record ProfileInput(string? DisplayName, string? Email, string? PhoneNumber);

/// <summary>
/// Which profile fields people edit themselves (<c>Account:SelfService:Editable</c>); the rest is the directory's
/// (an administrator or the HR source). By default the display name and the phone number: an e-mail address receives
/// password resets, so changing it is allowed only where a deployment says so.
/// </summary>
public sealed record SelfServiceSettings(IReadOnlySet<string> Editable)
{
    public const string DisplayName = "displayName";
    public const string Email = "email";
    public const string Phone = "phone";

    public static IReadOnlyList<string> Fields { get; } = [DisplayName, Email, Phone];

    public static SelfServiceSettings Default { get; } = new(new HashSet<string>([DisplayName, Phone], StringComparer.Ordinal));

    public bool MayEdit(string field) => Editable.Contains(field);
}

/// <summary>The audit event types of a person's own account changes and sign-ins; the activity page lists these.</summary>
public static class AccountEventTypes
{
    public const string SignedIn = "account.signed-in";
    public const string SignInFailed = "account.sign-in-failed";
    public const string PasswordChanged = "account.password-changed";
    public const string SessionEnded = "account.session-ended";
    public const string OtherSessionsEnded = "account.other-sessions-ended";
    public const string Prefix = "account.";
}

/// <summary>A person's own changes: their profile (within <see cref="SelfServiceSettings"/>) and their password.</summary>
public sealed partial class UserDirectory
{
    /// <summary>
    /// Changes the person's own profile through the same checks, audit event and outbox rows as an administrator's edit;
    /// a field they may not edit is refused on that field, and nothing changes.
    /// </summary>
    public async Task<UserAccount> UpdateOwnProfileAsync(string userId, ProfileInput input, SelfServiceSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(settings);
        var user = await FindAsync(userId, cancellationToken);
        var refused = new FieldErrors();
        var displayName = Changed(SelfServiceSettings.DisplayName, input.DisplayName, user.DisplayName);
        var email = Changed(SelfServiceSettings.Email, input.Email, user.Email);
        var phone = Changed(SelfServiceSettings.Phone, input.PhoneNumber, user.PhoneNumber);
        refused.ThrowIfAny();

        var edited = new UserInput(user.UserName, displayName, email, phone, user.EmployeeNumber, user.DepartmentId, user.ManagerId);
        (await ValidateAsync(edited, userId, cancellationToken)).ThrowIfAny();
        var before = UserSnapshot.Of(user);
        Apply(user, edited);
        return before == UserSnapshot.Of(user) ? user : await SaveUpdateAsync(user, before, cancellationToken);

        string? Changed(string field, string? wanted, string? current)
        {
            var value = string.IsNullOrWhiteSpace(wanted) ? null : wanted.Trim();
            if (wanted is null || string.Equals(value, current, StringComparison.Ordinal))
            {
                return current;
            }

            if (!settings.MayEdit(field))
            {
                refused.Add(field, $"{field} is kept by the directory; ask an administrator to change it.", "account.notEditable", field);
            }

            return value;
        }
    }

    /// <summary>
    /// Changes the person's own password: the current one must be right, the new one must pass every password rule
    /// (all failures are returned together). The security stamp changes, so the person's other sessions end here and now
    /// (back-channel logout to the applications they used), except <paramref name="keepSid"/>, the session asking.
    /// </summary>
    /// <returns>Empty when changed; else Identity's errors (<c>PasswordMismatch</c> for a wrong current password).</returns>
    public async Task<IReadOnlyList<IdentityError>> ChangeOwnPasswordAsync(
        string userId, string currentPassword, string newPassword, string? keepSid, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userId, cancellationToken);
        if (!await users.CheckPasswordAsync(user, currentPassword ?? ""))
        {
            return [users.ErrorDescriber.PasswordMismatch()];
        }

        var problems = new List<IdentityError>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, newPassword ?? "");
            problems.AddRange(result.Errors);
        }

        if (problems.Count > 0)
        {
            return problems;
        }

        var changed = await db.InTransactionAsync(async () =>
        {
            var result = await users.ChangePasswordAsync(user, currentPassword!, newPassword!);
            if (result.Succeeded)
            {
                await audit.RecordAsync(AccountEventTypes.PasswordChanged, "user", user.Id, null, null, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            return result;
        }, cancellationToken);
        if (!changed.Succeeded)
        {
            return [.. changed.Errors];
        }

        await sessions.EndOthersAsync(user.Id, keepSid, UserSessionEndReasons.PasswordChanged, cancellationToken);
        return [];
    }
}

using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Factors;

/// <summary>One of a user's own factor changes, as the account security page lists it.</summary>
public sealed record FactorEvent(DateTimeOffset OccurredAt, string Type, string ActorName, string? IpAddress);

/// <summary>
/// A user's second factors: the authenticator app (TOTP) and its recovery codes, kept in Identity's authenticator-key
/// and recovery-code store. Every change is an audit event on the user (<see cref="EventTypes"/>). Turning the app on
/// or off changes the security stamp (Identity does), which ends the person's other sessions.
/// </summary>
public sealed class AccountFactors(IdentityHubDbContext db, UserManager<UserAccount> users, AuditTrail audit, CurrentActor actor)
{
    public const int RecoveryCodeCount = 10;

    /// <summary>The audit event types of factor changes; the account page lists these.</summary>
    public static class EventTypes
    {
        public const string TotpEnrolled = "mfa.totp-enrolled";
        public const string TotpRemoved = "mfa.totp-removed";
        public const string RecoveryCodesRegenerated = "mfa.recovery-codes-regenerated";
        public const string RecoveryCodeUsed = "mfa.recovery-code-used";
        public const string ResetByAdministrator = "mfa.reset";
        public const string Prefix = "mfa.";
    }

    /// <summary>True when the user signs in with an authenticator code.</summary>
    public async Task<bool> HasTotpAsync(UserAccount user) =>
        await users.GetTwoFactorEnabledAsync(user) && !string.IsNullOrEmpty(await users.GetAuthenticatorKeyAsync(user));

    /// <summary>Any second factor at all: the authenticator app or a passkey.</summary>
    public async Task<bool> HasAnyFactorAsync(UserAccount user) =>
        await HasTotpAsync(user) || (await users.GetPasskeysAsync(user)).Count > 0;

    /// <summary>The key to show while enrolling (Base32); a new one for every enrolment that has not been confirmed.</summary>
    public Task<string> EnrolmentKeyAsync(UserAccount user) => TotpCodes.KeyOfAsync(users, user);

    /// <summary>Turns the authenticator on when <paramref name="code"/> is right for the shown key; the recovery codes to show once, else null.</summary>
    public async Task<IReadOnlyList<string>?> ConfirmTotpAsync(UserAccount user, string code, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!await users.VerifyTwoFactorTokenAsync(user, TotpCodes.ProviderName, code))
        {
            return null;
        }

        return await db.InTransactionAsync(async () =>
        {
            await users.SetTwoFactorEnabledAsync(user, true);
            var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
            await audit.RecordAsync(EventTypes.TotpEnrolled, "user", user.Id, null, new { recoveryCodes = codes.Count }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return (IReadOnlyList<string>)codes;
        }, cancellationToken);
    }

    /// <summary>New recovery codes (the old ones stop working); shown once.</summary>
    public Task<IReadOnlyList<string>> RegenerateRecoveryCodesAsync(UserAccount user, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async () =>
        {
            var codes = (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, RecoveryCodeCount))!.ToList();
            await audit.RecordAsync(EventTypes.RecoveryCodesRegenerated, "user", user.Id, null, new { recoveryCodes = codes.Count }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return (IReadOnlyList<string>)codes;
        }, cancellationToken);

    /// <summary>Turns the authenticator off (the caller proved a current code or the password) and forgets key and codes.</summary>
    public Task RemoveTotpAsync(UserAccount user, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async () =>
        {
            await ForgetTotpAsync(user);
            await audit.RecordAsync(EventTypes.TotpRemoved, "user", user.Id, null, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Records that a recovery code was spent at sign-in, with how many are left.</summary>
    public async Task RecordRecoveryCodeUsedAsync(UserAccount user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var left = await users.CountRecoveryCodesAsync(user);
        await audit.RecordEventAsync(EventTypes.RecoveryCodeUsed, "user", user.Id, new { recoveryCodesLeft = left }, cancellationToken);
    }

    /// <summary>
    /// An administrator removes every factor of a user (authenticator, recovery codes, passkeys) and ends the user's
    /// sessions (security stamp); the user enrols again at the next sign-in when the policy requires it.
    /// </summary>
    public async Task ResetAsync(string userId, CancellationToken cancellationToken)
    {
        // Factors guard sessions: resetting them is the security administrator's, like ending sessions (issue 6).
        if (!actor.Value.IsSuperAdmin && !actor.Value.Holds(AdminRoles.SecurityAdmin))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators and security administrators may reset a user's factors.", "delegation.factorsOnly");
        }

        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken) ?? throw RuleViolation.NotFound("user", userId);
        await db.InTransactionAsync(async () =>
        {
            var hadTotp = await HasTotpAsync(user);
            await ForgetTotpAsync(user);
            var passkeys = await users.GetPasskeysAsync(user);
            foreach (var passkey in passkeys)
            {
                await users.RemovePasskeyAsync(user, passkey.CredentialId);
            }

            await users.UpdateSecurityStampAsync(user);
            await audit.RecordAsync(EventTypes.ResetByAdministrator, "user", user.Id, new { totp = hadTotp, passkeys = passkeys.Count }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>The user's own factor changes, newest first.</summary>
    public Task<List<FactorEvent>> EventsOfAsync(string userId, int take, CancellationToken cancellationToken) =>
        db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetType == "user" && e.TargetId == userId && e.Type.StartsWith(EventTypes.Prefix))
            .OrderByDescending(e => e.Sequence)
            .Take(take)
            .Select(e => new FactorEvent(e.OccurredAt, e.Type, e.ActorName, e.IpAddress))
            .ToListAsync(cancellationToken);

    private async Task ForgetTotpAsync(UserAccount user)
    {
        await users.SetTwoFactorEnabledAsync(user, false);
        await users.RemoveAuthenticationTokenAsync(user, TotpCodes.IdentityStoreName, TotpCodes.AuthenticatorKeyName);
        await users.RemoveAuthenticationTokenAsync(user, TotpCodes.IdentityStoreName, TotpCodes.RecoveryCodesName);
        await users.RemoveAuthenticationTokenAsync(user, TotpCodes.StoreName, TotpCodes.LastStepName);
    }
}

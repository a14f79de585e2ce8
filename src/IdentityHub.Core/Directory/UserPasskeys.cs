using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Core.Directory;

/// <summary>One passkey of a user as the account page and the admin API show it; <see cref="Id"/> is the credential id, base64url.</summary>
public sealed record PasskeySummary(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// A user's passkeys (ASP.NET Core Identity's WebAuthn credentials): named, renamed, removed, each change an audit
/// event of the user; adding and removing change the security stamp, so the user's other sessions end (the page renews
/// the current one). The WebAuthn ceremonies themselves are the sign-in manager's; this is what is kept of them.
/// </summary>
public sealed class UserPasskeys(IdentityHubDbContext db, UserManager<UserAccount> users, AuditTrail audit, CurrentActor actor, TimeProvider clock)
{
    public const int NameMaxLength = 100;

    /// <summary>The user's passkeys, oldest first.</summary>
    public async Task<IReadOnlyList<PasskeySummary>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userId, cancellationToken);
        var passkeys = await users.GetPasskeysAsync(user);
        var ids = passkeys.Select(p => p.CredentialId).ToList();
        var uses = await db.PasskeyUses.AsNoTracking().Where(u => ids.Contains(u.CredentialId)).ToListAsync(cancellationToken);
        return [.. passkeys
            .OrderBy(p => p.CreatedAt)
            .Select(p => new PasskeySummary(
                IdOf(p.CredentialId), p.Name ?? "", p.CreatedAt,
                uses.Find(u => u.CredentialId.AsSpan().SequenceEqual(p.CredentialId))?.LastUsedAt))];
    }

    /// <summary>Keeps a passkey the user has just registered (attestation verified by the sign-in manager) under <paramref name="name"/>.</summary>
    public async Task<PasskeySummary> AddAsync(string userId, UserPasskeyInfo passkey, string? name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(passkey);
        passkey.Name = NameOf(name);
        var user = await FindAsync(userId, cancellationToken);
        await db.InTransactionAsync(async () =>
        {
            if (await users.FindByPasskeyIdAsync(passkey.CredentialId) is not null)
            {
                throw RuleViolation.Field("credential", "This passkey is already registered.", ViolationKind.Conflict, "passkeys.duplicate");
            }

            Check(await users.AddOrUpdatePasskeyAsync(user, passkey));
            // A factor change: the user's other sessions end (the security stamp), as with the authenticator app.
            Check(await users.UpdateSecurityStampAsync(user));
            await audit.RecordAsync("mfa.passkey-added", "user", user.Id, null, new { passkey = IdOf(passkey.CredentialId), passkey.Name }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return new PasskeySummary(IdOf(passkey.CredentialId), passkey.Name, passkey.CreatedAt, null);
    }

    public async Task RenameAsync(string userId, string passkeyId, string? name, CancellationToken cancellationToken)
    {
        var newName = NameOf(name);
        var user = await FindAsync(userId, cancellationToken);
        var passkey = await FindPasskeyAsync(user, passkeyId);
        var before = passkey.Name;
        passkey.Name = newName;
        await db.InTransactionAsync(async () =>
        {
            Check(await users.AddOrUpdatePasskeyAsync(user, passkey));
            await audit.RecordAsync("mfa.passkey-renamed", "user", user.Id, new { passkey = passkeyId, name = before }, new { passkey = passkeyId, name = newName }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    public async Task RemoveAsync(string userId, string passkeyId, CancellationToken cancellationToken)
    {
        var user = await FindAsync(userId, cancellationToken);
        var passkey = await FindPasskeyAsync(user, passkeyId);
        await db.InTransactionAsync(async () =>
        {
            Check(await users.RemovePasskeyAsync(user, passkey.CredentialId));
            Check(await users.UpdateSecurityStampAsync(user));
            await audit.RecordAsync("mfa.passkey-removed", "user", user.Id, new { passkey = passkeyId, passkey.Name }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>
    /// Removes every passkey of the user (an administrator resetting their factors, or the user themselves): one audit
    /// event naming each. Returns how many were removed; none is no error.
    /// </summary>
    public async Task<int> RemoveAllAsync(string userId, CancellationToken cancellationToken)
    {
        var who = actor.Value;
        // Factors are the security administrator's (issue 16 §1), as sessions are; a user may clear their own.
        if (who.Id != userId && !who.IsSuperAdmin && !who.Holds(AdminRoles.SecurityAdmin))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators and security administrators may remove a user's passkeys.", "passkeys.adminOnly");
        }

        var user = await FindAsync(userId, cancellationToken);
        var passkeys = await users.GetPasskeysAsync(user);
        if (passkeys.Count == 0)
        {
            return 0;
        }

        await db.InTransactionAsync(async () =>
        {
            foreach (var passkey in passkeys)
            {
                Check(await users.RemovePasskeyAsync(user, passkey.CredentialId));
            }

            Check(await users.UpdateSecurityStampAsync(user));
            await audit.RecordAsync("mfa.passkeys-removed", "user", user.Id,
                new { passkeys = passkeys.Select(p => new { passkey = IdOf(p.CredentialId), p.Name }) }, null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return passkeys.Count;
    }

    /// <summary>Notes that <paramref name="credentialId"/> has just signed its owner in.</summary>
    public async Task RecordUseAsync(byte[] credentialId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentialId);
        var now = clock.GetUtcNow();
        if (await db.PasskeyUses.Where(u => u.CredentialId == credentialId).ExecuteUpdateAsync(s => s.SetProperty(u => u.LastUsedAt, now), cancellationToken) == 0)
        {
            db.PasskeyUses.Add(new PasskeyUse { CredentialId = credentialId, LastUsedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>The id pages and the API use for a credential id: base64url, as WebAuthn's JSON writes it.</summary>
    public static string IdOf(byte[] credentialId) => Base64UrlEncoder.Encode(credentialId);

    private static string NameOf(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        if (trimmed.Length == 0)
        {
            throw RuleViolation.Field("name", "Enter a name for the passkey.", ViolationKind.Invalid, "passkeys.nameRequired");
        }

        return trimmed.Length <= NameMaxLength
            ? trimmed
            : throw RuleViolation.Field("name", $"The name may have at most {NameMaxLength} characters.", ViolationKind.Invalid, "passkeys.nameTooLong", NameMaxLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private async Task<UserPasskeyInfo> FindPasskeyAsync(UserAccount user, string passkeyId)
    {
        byte[] credentialId;
        try
        {
            credentialId = Base64UrlEncoder.DecodeBytes(passkeyId);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw RuleViolation.NotFound("passkey", passkeyId);
        }

        // Only the user's own: another person's credential id is as unknown as a made-up one.
        return await users.GetPasskeyAsync(user, credentialId) ?? throw RuleViolation.NotFound("passkey", passkeyId);
    }

    private async Task<UserAccount> FindAsync(string id, CancellationToken cancellationToken) =>
        await db.Users.SingleOrDefaultAsync(u => u.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("user", id);

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Identity refused a passkey change: " + string.Join("; ", result.Errors.Select(e => e.Description)));
        }
    }
}

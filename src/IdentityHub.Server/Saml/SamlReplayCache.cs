using System.Security.Cryptography;
using System.Text;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>
/// Request IDs seen within their lifetime, in the database so every node shares them: a replayed
/// AuthnRequest or LogoutRequest hits the primary key and is refused (profiles §4.1.4.5 asks the same of SPs).
/// The IDs of LogoutRequests IdentityHub sent are kept here too, until the SP's answer consumes them.
/// </summary>
public sealed class SamlReplayCache(IdentityHubDbContext db, TimeProvider clock)
{
    /// <summary>False when (<paramref name="issuer"/>, <paramref name="messageId"/>) was already seen and has not expired.</summary>
    public async Task<bool> TryRememberAsync(string issuer, string messageId, TimeSpan keepFor, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var key = Key(issuer, messageId);
        // Expired entries go first, so the table stays as small as the traffic of one lifetime.
        await db.SamlSeenMessages.Where(m => m.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        if (await db.SamlSeenMessages.AnyAsync(m => m.Key == key, cancellationToken))
        {
            return false;
        }

        var row = new SamlSeenMessage { Key = key, ExpiresAt = now + keepFor };
        db.SamlSeenMessages.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // The same message arrived at another node (or tab) at the same instant.
            db.Entry(row).State = EntityState.Detached;
            return false;
        }
    }

    /// <summary>Forgets (<paramref name="issuer"/>, <paramref name="messageId"/>); false when it was not remembered or has expired, so each is used once.</summary>
    public async Task<bool> TryConsumeAsync(string issuer, string messageId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var key = Key(issuer, messageId);
        return await db.SamlSeenMessages.Where(m => m.Key == key && m.ExpiresAt >= now).ExecuteDeleteAsync(cancellationToken) == 1;
    }

    private static string Key(string issuer, string messageId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(issuer + "\n" + messageId)));
}

using System.Security.Cryptography;
using IdentityHub.Data;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Sessions;

/// <summary>Which applications took part in a browser session, so signing out can notify them.</summary>
public sealed class SessionParticipants(IdentityHubDbContext db, TimeProvider clock)
{
    public const string OidcProtocol = "oidc";

    public const string SamlProtocol = "saml";

    public async Task RecordAsync(string sid, string protocol, string clientId, string userId, CancellationToken cancellationToken)
    {
        if (await db.SessionParticipants.AnyAsync(p => p.Sid == sid && p.Protocol == protocol && p.ClientId == clientId, cancellationToken))
        {
            return;
        }

        var row = new SessionParticipant { Sid = sid, Protocol = protocol, ClientId = clientId, UserId = userId, At = clock.GetUtcNow() };
        db.SessionParticipants.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two tabs signed in to the same application at once: the other request recorded it.
            db.Entry(row).State = EntityState.Detached;
        }
    }

    /// <summary>
    /// SAML core §8.3.8: the transient NameID of this session at this SP — the one it got before, or a new random one
    /// (128 bits), recorded with the participation. Two sessions of one user get two values.
    /// </summary>
    public async Task<string> TransientNameIdAsync(string sid, string entityId, string userId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var row = await db.SessionParticipants.SingleOrDefaultAsync(p => p.Sid == sid && p.Protocol == SamlProtocol && p.ClientId == entityId, cancellationToken);
            if (row?.NameId is { } existing)
            {
                return existing;
            }

            var value = "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            if (row is null)
            {
                row = new SessionParticipant { Sid = sid, Protocol = SamlProtocol, ClientId = entityId, UserId = userId, At = clock.GetUtcNow(), NameId = value };
                db.SessionParticipants.Add(row);
            }
            else
            {
                row.NameId = value;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return value;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // Two tabs signed in to the same SP at once: the other request recorded it; read its value.
                db.Entry(row).State = EntityState.Detached;
            }
        }
    }

    public async Task<IReadOnlyList<SessionParticipant>> OfSessionAsync(string sid, CancellationToken cancellationToken) =>
        await db.SessionParticipants.AsNoTracking().Where(p => p.Sid == sid).ToListAsync(cancellationToken);
}

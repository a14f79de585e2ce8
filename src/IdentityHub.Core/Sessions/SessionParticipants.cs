using IdentityHub.Data;
using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Sessions;

/// <summary>Which applications took part in a browser session, so signing out can notify them.</summary>
public sealed class SessionParticipants(IdentityHubDbContext db, TimeProvider clock)
{
    public const string OidcProtocol = "oidc";

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

    public async Task<IReadOnlyList<SessionParticipant>> OfSessionAsync(string sid, CancellationToken cancellationToken) =>
        await db.SessionParticipants.AsNoTracking().Where(p => p.Sid == sid).ToListAsync(cancellationToken);
}

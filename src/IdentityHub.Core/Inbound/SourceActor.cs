using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Inbound;

/// <summary>
/// A source acts as an HR administrator of its own subtrees: the same delegation rules, never an administrator's
/// status or admin roles, and the audit trail names the source.
/// </summary>
public static class SourceActor
{
    public static string IdOf(Guid sourceId) => $"source:{sourceId:D}";

    public static async Task<Actor> ForAsync(IdentityHubDbContext db, InboundSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(source);
        var paths = await db.InboundSourceSubtrees.AsNoTracking().Where(t => t.SourceId == source.Id)
            .Select(t => t.Department!.Path).ToListAsync(cancellationToken);
        return new Actor(IdOf(source.Id), $"{source.Name} (source)", new HashSet<string>(StringComparer.Ordinal) { AdminRoles.HrAdmin })
        {
            SourceId = source.Id,
            SubtreePaths = paths,
        };
    }
}

using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>What the assignment table shows: the rows, whether to offer "end", and where to come back to after ending one.</summary>
public sealed record AssignmentRows(IReadOnlyList<RoleAssignment> Rows, DateTimeOffset Now, bool CanEnd, bool ShowUser, string? ReturnTo, IReadOnlyDictionary<string, PersonName>? UserNames = null)
{
    /// <summary>
    /// Who granted it, by name: the record keeps "name (id)" (the audit trail's actor), and the id means nothing to the
    /// reader; it stays in the cell's title.
    /// </summary>
    public static string NameOf(string grantedBy)
    {
        ArgumentNullException.ThrowIfNull(grantedBy);
        var open = grantedBy.LastIndexOf(" (", StringComparison.Ordinal);
        return open > 0 && grantedBy.EndsWith(')') ? grantedBy[..open] : grantedBy;
    }

    public static string StateOf(RoleAssignment assignment, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return assignment.EndedAt is not null ? "ended"
            : assignment.IsActiveAt(now) ? "active"
            : assignment.ValidFrom > now ? "future"
            : "expired";
    }
}

using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;

namespace IdentityHub.Server.Admin.Assignments;

/// <summary>What the assignment table shows: the rows, whether to offer "end", and where to come back to after ending one.</summary>
public sealed record AssignmentRows(IReadOnlyList<RoleAssignment> Rows, DateTimeOffset Now, bool CanEnd, bool ShowUser, string? ReturnTo, IReadOnlyDictionary<string, PersonName>? UserNames = null)
{
    public static string StateOf(RoleAssignment assignment, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        return assignment.EndedAt is not null ? "ended"
            : assignment.IsActiveAt(now) ? "active"
            : assignment.ValidFrom > now ? "future"
            : "expired";
    }
}

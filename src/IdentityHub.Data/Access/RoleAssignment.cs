using System.Linq.Expressions;

namespace IdentityHub.Data.Access;

/// <summary>
/// A user holds a role within a scope (a department subtree, or everywhere when <see cref="DepartmentId"/>
/// is null) during a validity window. Assignments are never deleted: ending one keeps the record.
/// </summary>
public sealed class RoleAssignment
{
    public const int ReasonMaxLength = 500;

    public Guid Id { get; set; }

    public required string UserId { get; set; }

    public Guid RoleId { get; set; }

    public Role? Role { get; set; }

    public Guid? DepartmentId { get; set; }

    public Directory.Department? Department { get; set; }

    public DateTimeOffset ValidFrom { get; set; }

    /// <summary>The assignment stops counting at this instant (exclusive); null = until ended.</summary>
    public DateTimeOffset? ValidUntil { get; set; }

    public required string Reason { get; set; }

    /// <summary>Who granted it: the administrator's or client's id and name, as the audit trail records them.</summary>
    public required string GrantedBy { get; set; }

    public DateTimeOffset GrantedAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public string? EndedBy { get; set; }

    public string? EndReason { get; set; }

    /// <summary>Set when the expiry job has recorded that <see cref="ValidUntil"/> passed, so it is recorded once.</summary>
    public DateTimeOffset? ExpiryRecordedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    // The rules below are written once, as expressions: queries use them as they are, the instance methods compiled.
    private static readonly Expression<Func<RoleAssignment, DateTimeOffset, bool>> Active =
        (a, now) => a.EndedAt == null && a.ValidFrom <= now && (a.ValidUntil == null || now < a.ValidUntil);

    private static readonly Expression<Func<RoleAssignment, DateTimeOffset, bool>> CurrentOrUpcoming =
        (a, now) => a.EndedAt == null && (a.ValidUntil == null || now < a.ValidUntil);

    private static readonly Func<RoleAssignment, DateTimeOffset, bool> IsActive = Active.Compile();

    /// <summary>Counts at <paramref name="now"/>: started, not past its end, not ended.</summary>
    public bool IsActiveAt(DateTimeOffset now) => IsActive(this, now);

    /// <summary>The assignments that count at <paramref name="now"/> (<see cref="IsActiveAt"/>), as a query filter.</summary>
    public static Expression<Func<RoleAssignment, bool>> ActiveAt(DateTimeOffset now) => Bind(Active, now, negate: false);

    /// <summary>The assignments that do not count at <paramref name="now"/>: ended, expired, or not started yet.</summary>
    public static Expression<Func<RoleAssignment, bool>> InactiveAt(DateTimeOffset now) => Bind(Active, now, negate: true);

    /// <summary>
    /// Not ended and not yet expired at <paramref name="now"/>, including those that start later: what a new grant must
    /// not conflict with (separation of duty) and what the console lists as current.
    /// </summary>
    public static Expression<Func<RoleAssignment, bool>> CurrentOrUpcomingAt(DateTimeOffset now) => Bind(CurrentOrUpcoming, now, negate: false);

    /// <summary>
    /// The assignment's role counts in the application: the application's own role, or a global role that grants at
    /// least one of its permissions. Which rights it grants there is the entitlements' business; this says whether any.
    /// </summary>
    public static Expression<Func<RoleAssignment, bool>> GrantsIn(Guid applicationId) =>
        a => a.Role!.ApplicationId == applicationId
            || (a.Role.ApplicationId == null && a.Role.Permissions.Any(p => p.Permission!.ApplicationId == applicationId));

    /// <summary>
    /// The rule with <paramref name="now"/> bound as a captured value, so a provider sends it as a query parameter
    /// (one cached query plan), not as a literal.
    /// </summary>
    private static Expression<Func<RoleAssignment, bool>> Bind(Expression<Func<RoleAssignment, DateTimeOffset, bool>> rule, DateTimeOffset now, bool negate)
    {
        Expression<Func<DateTimeOffset>> captured = () => now;
        var body = new ReplaceParameter(rule.Parameters[1], captured.Body).Visit(rule.Body);
        return Expression.Lambda<Func<RoleAssignment, bool>>(negate ? Expression.Not(body) : body, rule.Parameters[0]);
    }

    private sealed class ReplaceParameter(ParameterExpression parameter, Expression replacement) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == parameter ? replacement : base.VisitParameter(node);
    }
}

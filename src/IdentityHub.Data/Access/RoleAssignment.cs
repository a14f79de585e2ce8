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

    /// <summary>Counts at <paramref name="now"/>: started, not past its end, not ended.</summary>
    public bool IsActiveAt(DateTimeOffset now) =>
        EndedAt is null && ValidFrom <= now && (ValidUntil is null || now < ValidUntil);
}

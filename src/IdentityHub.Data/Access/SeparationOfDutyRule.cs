namespace IdentityHub.Data.Access;

/// <summary>
/// Two roles, or two permissions, that no one may hold together in overlapping scopes and times
/// (submitting and approving expenses in the same department).
/// </summary>
public sealed class SeparationOfDutyRule
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public string? Description { get; set; }

    public Guid? FirstRoleId { get; set; }

    public Guid? SecondRoleId { get; set; }

    public Guid? FirstPermissionId { get; set; }

    public Guid? SecondPermissionId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

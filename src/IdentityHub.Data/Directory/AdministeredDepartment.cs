namespace IdentityHub.Data.Directory;

/// <summary>A department subtree an HR administrator administers (delegated administration).</summary>
public sealed class AdministeredDepartment
{
    public required string UserId { get; set; }

    public Guid DepartmentId { get; set; }

    public Department? Department { get; set; }
}

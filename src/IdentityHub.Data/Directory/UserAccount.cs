using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Data.Directory;

/// <summary>A person who signs in: an ASP.NET Core Identity user plus the company's own facts about them.</summary>
public sealed class UserAccount : IdentityUser
{
    /// <summary>The company's employee number: unique, and the idempotency key downstream systems use.</summary>
    public string? EmployeeNumber { get; set; }

    public string DisplayName { get; set; } = "";

    public UserStatus Status { get; set; } = UserStatus.Active;

    public Guid? DepartmentId { get; set; }

    public Department? Department { get; set; }

    public string? ManagerId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum UserStatus
{
    Active,
    Suspended,
    Left,
}

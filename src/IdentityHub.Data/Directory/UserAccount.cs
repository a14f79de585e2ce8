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

    /// <summary>The inbound source this person came from (OA or HR), or null when administered in IdentityHub.</summary>
    public Guid? SourceId { get; set; }

    /// <summary>The person's id in <see cref="SourceId"/> (SCIM <c>externalId</c>), unique per source.</summary>
    public string? ExternalId { get; set; }

    /// <summary>The manager a source named who is not in IdentityHub yet; linked when they arrive.</summary>
    public string? PendingManagerRef { get; set; }

    /// <summary>The password was set by an administrator: the next sign-in leads to a change of password first.</summary>
    public bool MustChangePassword { get; set; }

    /// <summary>The language the person reads (<c>en</c>, <c>zh-CN</c>); mails to them use it. Null: the configured default.</summary>
    public string? PreferredLocale { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum UserStatus
{
    Active,
    Suspended,
    Left,
}

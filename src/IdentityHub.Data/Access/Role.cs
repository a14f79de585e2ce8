namespace IdentityHub.Data.Access;

/// <summary>A named bundle of permissions of one application, or a global role when <see cref="ApplicationId"/> is null.</summary>
public sealed class Role
{
    public const int NameMaxLength = 100;
    public const int DisplayNameMaxLength = 200;

    public Guid Id { get; set; }

    public Guid? ApplicationId { get; set; }

    public Application? Application { get; set; }

    /// <summary>Unique within its application (or among global roles); what the roles claim carries.</summary>
    public required string Name { get; set; }

    /// <summary>What people read ("Finance approver", "财务审批人"); the console falls back to <see cref="Name"/>.</summary>
    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    /// <summary>HR administrators may assign only delegable roles, and only inside the departments they administer.</summary>
    public bool Delegable { get; set; }

    public List<RolePermission> Permissions { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A permission in a role, with the role's own parameter values (they override the permission's defaults).</summary>
public sealed class RolePermission
{
    public Guid RoleId { get; set; }

    public Guid PermissionId { get; set; }

    public Permission? Permission { get; set; }

    public Dictionary<string, string> Parameters { get; set; } = [];
}

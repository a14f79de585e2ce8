namespace IdentityHub.Data.Directory;

/// <summary>A node of the company's department tree.</summary>
public sealed class Department
{
    public Guid Id { get; set; }

    /// <summary>A short stable code (for example from HR), unique across the company.</summary>
    public required string Code { get; set; }

    public required string Name { get; set; }

    public Guid? ParentId { get; set; }

    public Department? Parent { get; set; }

    /// <summary>Materialized path of ids from the root, "/id1/id2/", so a subtree is one prefix query.</summary>
    public required string Path { get; set; }

    /// <summary>The inbound source this department came from, or null when administered in IdentityHub.</summary>
    public Guid? SourceId { get; set; }

    /// <summary>The department's id in <see cref="SourceId"/> (SCIM Group <c>externalId</c>), unique per source.</summary>
    public string? ExternalId { get; set; }

    /// <summary>Everyone in this department and every department under it signs in with a second factor.</summary>
    public bool RequireMfa { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

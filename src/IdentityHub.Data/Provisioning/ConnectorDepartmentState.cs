namespace IdentityHub.Data.Provisioning;

/// <summary>
/// What a REST connector last sent of one department: the vendor's id for it and a fingerprint of what was sent, so
/// a department is upserted again only when it changed. Kept after the department is deleted in IdentityHub (no
/// foreign key to it): the full sync then deletes it at the vendor by the code kept here, and removes the row.
/// </summary>
public sealed class ConnectorDepartmentState
{
    public Guid ConnectorId { get; set; }

    public Guid DepartmentId { get; set; }

    public required string Code { get; set; }

    public required string Name { get; set; }

    public string? ParentCode { get; set; }

    /// <summary>The department's id at the vendor, when its answer carried one.</summary>
    public string? ExternalId { get; set; }

    /// <summary>A hash of the department as sent (code, name, parent, path): a different one means upsert again.</summary>
    public required string Fingerprint { get; set; }

    /// <summary>How deep it sits (the root is 0): deletions go deepest first, so a vendor never sees a parent removed before its children.</summary>
    public int Depth { get; set; }

    public DateTimeOffset SentAt { get; set; }
}

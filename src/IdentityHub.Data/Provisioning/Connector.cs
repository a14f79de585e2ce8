namespace IdentityHub.Data.Provisioning;

public enum ConnectorKind
{
    Scim,
    Webhook,

    /// <summary>A vendor's own REST API, driven by templates and a response mapping (stored as "Rest").</summary>
    Rest,
}

/// <summary>
/// A downstream system of an application that IdentityHub pushes users and their rights to (SCIM 2.0, signed
/// webhooks or a vendor REST API). Changes queue while it is paused and flow again when it resumes.
/// </summary>
public sealed class Connector
{
    public Guid Id { get; set; }

    public Guid ApplicationId { get; set; }

    public Access.Application? Application { get; set; }

    public required string Name { get; set; }

    public ConnectorKind Kind { get; set; }

    public bool Paused { get; set; }

    /// <summary>Kind-specific settings as JSON (base URL, auth mode, groups mode...); never a secret.</summary>
    public string Settings { get; set; } = "{}";

    /// <summary>The bearer token, OAuth client secret or webhook signing secret, protected with Data Protection.</summary>
    public string? ProtectedSecret { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the scheduled drift check is due next; a node takes the run by moving it forward (a conditional update).</summary>
    public DateTimeOffset? NextDriftCheckAt { get; set; }

    /// <summary>When the scheduled full sync is due next; taken like <see cref="NextDriftCheckAt"/>.</summary>
    public DateTimeOffset? NextFullSyncAt { get; set; }
}

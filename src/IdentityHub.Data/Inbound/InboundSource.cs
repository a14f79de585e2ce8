namespace IdentityHub.Data.Inbound;

public enum InboundSourceKind
{
    /// <summary>The source pushes into IdentityHub's SCIM 2.0 service provider at <c>/scim/v2</c> with its own bearer token.</summary>
    Scim,

    /// <summary>IdentityHub pulls the source's REST API: increments by a cursor every few minutes, a full reconciliation nightly.</summary>
    Rest,
}

/// <summary>What happens when someone other than the owning source changes an attribute the source owns.</summary>
public enum OwnershipConflictPolicy
{
    /// <summary>The change is refused with a message naming the source.</summary>
    Refuse,

    /// <summary>The change is kept, recorded as a conflict, and the source's next value overwrites it.</summary>
    Overwrite,
}

/// <summary>
/// An OA or HR system the organisation comes in from: who it is, which department subtrees it may write, which
/// attributes of a person it owns, and (for a pull source) how to read it and where the last increment stopped.
/// </summary>
public sealed class InboundSource
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public InboundSourceKind Kind { get; set; }

    public bool Enabled { get; set; } = true;

    /// <summary>The attributes this source owns, comma-separated (see Core's <c>SourceAttributes</c>).</summary>
    public string OwnedAttributes { get; set; } = "";

    public OwnershipConflictPolicy ConflictPolicy { get; set; }

    /// <summary>Whether a person this source creates (with an e-mail address) is mailed an invitation to set their first password.</summary>
    public bool InviteNewUsers { get; set; }

    /// <summary>Pull settings as JSON (URL templates, paging, field mapping, authentication); never a secret.</summary>
    public string Settings { get; set; } = "{}";

    /// <summary>The push source's bearer token as a SHA-256 hex digest; the token itself is shown once at creation.</summary>
    public string? TokenHash { get; set; }

    /// <summary>The token's first characters, so an administrator can tell which token a system holds.</summary>
    public string? TokenHint { get; set; }

    public DateTimeOffset? TokenIssuedAt { get; set; }

    /// <summary>The pull source's secret (HMAC secret, OAuth client secret, bearer token), protected with Data Protection.</summary>
    public string? ProtectedSecret { get; set; }

    /// <summary>Where the last successful increment stopped (for example the largest <c>updatedAt</c> seen).</summary>
    public string? Cursor { get; set; }

    /// <summary>The first import of a pull source is a dry run an administrator approves before anything is written.</summary>
    public bool FirstImportApproved { get; set; }

    public DateTimeOffset? NextIncrementAt { get; set; }

    public DateTimeOffset? NextReconciliationAt { get; set; }

    /// <summary>When the pull running now was claimed (one run of a source at a time, on any node), or null when none runs.</summary>
    public DateTimeOffset? RunClaimedAt { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<InboundSourceSubtree> Subtrees { get; set; } = [];
}

/// <summary>A department subtree a source may write into (the department and everything below it).</summary>
public sealed class InboundSourceSubtree
{
    public Guid SourceId { get; set; }

    public Guid DepartmentId { get; set; }

    public Directory.Department? Department { get; set; }
}

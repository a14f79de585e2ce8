using IdentityHub.Core.Directory;

namespace IdentityHub.Core.Audit;

/// <summary>Who is acting, and from where: what the audit trail records and what delegation checks read.</summary>
public sealed record Actor(string Id, string Name, IReadOnlySet<string> AdminRoles, string? IpAddress = null, string? UserAgent = null, string? CorrelationId = null)
{
    /// <summary>IdentityHub itself: background jobs, start-up seeding.</summary>
    public static Actor System { get; } = new("system", "IdentityHub", new HashSet<string>(StringComparer.Ordinal) { Directory.AdminRoles.SuperAdmin });

    /// <summary>The inbound source acting (a SCIM push or a pull run), or null for a person or IdentityHub itself.</summary>
    public Guid? SourceId { get; init; }

    /// <summary>
    /// The department paths this actor may write under when they are not read from its administered departments
    /// (an inbound source's subtrees); null for people, whose subtrees delegation reads from the database.
    /// </summary>
    public IReadOnlyList<string>? SubtreePaths { get; init; }

    public bool IsSuperAdmin => AdminRoles.Contains(Directory.AdminRoles.SuperAdmin);

    public bool Holds(string adminRole) => AdminRoles.Contains(adminRole);

    /// <summary>What assignment records keep in GrantedBy / EndedBy.</summary>
    public string Display => $"{Name} ({Id})";
}

/// <summary>The actor of the current unit of work: the server resolves it from the request, jobs set it explicitly.</summary>
public sealed class CurrentActor(Func<Actor?>? resolve = null)
{
    private Actor? _value;

    public Actor Value
    {
        get => _value ??= resolve?.Invoke() ?? Actor.System;
        set => _value = value;
    }
}

using System.Linq.Expressions;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>
/// Something an audit event names, its target or its actor, as people read it. <see cref="Name"/> is its name now, or, when
/// it was deleted (<see cref="Deleted"/>), the name its deletion recorded; <see cref="Key"/> the identifier shown beside it
/// (a role's key, a user name, a department code, a client id); <see cref="ApplicationId"/> the application a role,
/// permission, client or connector belongs to.
/// </summary>
public sealed record AuditSubject(string Kind, string Id, string Name, string? Key = null, Guid? ApplicationId = null, bool Deleted = false);

/// <summary>An audit event with its actor and its target named.</summary>
public sealed record AuditEntry(AuditEvent Event, AuditSubject Actor, AuditSubject? Target);

/// <summary>The kinds of target the trail records (<see cref="AuditEvent.TargetType"/>), and the actor kinds besides a person.</summary>
public static class AuditKinds
{
    public const string User = "user";
    public const string Department = "department";
    public const string Application = "application";
    public const string Client = "client";
    public const string Role = "role";
    public const string Permission = "permission";
    public const string Connector = "connector";
    public const string SodRule = "sod-rule";

    /// <summary>IdentityHub itself (background jobs, seeding).</summary>
    public const string System = "system";

    /// <summary>An actor IdentityHub has no record of (an anonymous caller, a client of no application).</summary>
    public const string Unknown = "unknown";

    /// <summary>The kinds whose ids are GUIDs written as <see cref="Guid.ToString()"/>.</summary>
    internal static readonly IReadOnlySet<string> ByGuid = new HashSet<string>(StringComparer.Ordinal) { Department, Application, Role, Permission, Connector, SodRule };
}

/// <summary>
/// Names the trail's targets and actors, and finds targets by name. Names are resolved when the trail is read, never written
/// into it: the hash chain stays as it was, a renamed target is found by its new name (with all its history), and a deleted
/// one by the name its deletion snapshot recorded.
/// </summary>
internal sealed class AuditNaming(IdentityHubDbContext db)
{
    /// <summary>A name that matches more targets of one kind finds the events of the first ones (by name); type more of it.</summary>
    internal const int MatchesPerKind = 500;

    /// <summary>The roles (of those matched) whose grants and ends a search by role name also finds.</summary>
    private const int RolesWithGrants = 20;

    private const string AssignmentEvents = "assignment.";
    private const string Deletions = ".deleted";

    public async Task<IReadOnlyList<AuditEntry>> NameAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        var targets = events.Where(e => e.TargetType is not null && e.TargetId is not null).Select(e => (Kind: e.TargetType!, Id: Normalize(e.TargetType!, e.TargetId!)));
        var actors = events.Select(e => e.ActorId).Distinct(StringComparer.Ordinal).ToList();
        var wanted = targets.Concat(actors.Select(a => (Kind: AuditKinds.User, Id: a))).Concat(actors.Select(a => (Kind: AuditKinds.Client, Id: a)))
            .Distinct().ToLookup(t => t.Kind, t => t.Id);
        var live = await LiveAsync(wanted, cancellationToken);
        var recorded = await RecordedAsync(events, live, cancellationToken);
        return [.. events.Select(e => new AuditEntry(e, ActorOf(e, live), TargetOf(e, live, recorded)))];
    }

    /// <summary>
    /// The events whose target is named by <paramref name="text"/>: a user (user name, display name, employee number), a
    /// department (name, code), an application or its client, a role (key, display name; with its grants and ends), a
    /// permission, a connector, a separation-of-duty rule, or a deleted one of these by the name its deletion recorded.
    /// </summary>
    public async Task<List<Expression<Func<AuditEvent, bool>>>> TargetsNamedAsync(string text, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        void Add(string kind, IEnumerable<string> found)
        {
            if (!ids.TryGetValue(kind, out var set))
            {
                ids[kind] = set = new HashSet<string>(StringComparer.Ordinal);
            }

            set.UnionWith(found);
        }

        Add(AuditKinds.User, await UsersNamedAsync(text, cancellationToken));
        Add(AuditKinds.Department, (await db.Departments.AsNoTracking().WhereAnyContains(text, d => d.Name, d => d.Code)
            .OrderBy(d => d.Name).Select(d => d.Id).Take(MatchesPerKind).ToListAsync(cancellationToken)).Select(Text));
        var applications = await db.Applications.AsNoTracking().WhereAnyContains(text, a => a.Name, a => a.OidcClientId)
            .OrderBy(a => a.Name).Select(a => new { a.Id, a.OidcClientId }).Take(MatchesPerKind).ToListAsync(cancellationToken);
        Add(AuditKinds.Application, applications.Select(a => Text(a.Id)));
        Add(AuditKinds.Client, applications.Select(a => a.OidcClientId).OfType<string>());
        var roles = (await db.AccessRoles.AsNoTracking().WhereAnyContains(text, r => r.Name, r => r.DisplayName)
            .OrderBy(r => r.Name).Select(r => r.Id).Take(MatchesPerKind).ToListAsync(cancellationToken)).Select(Text).ToList();
        Add(AuditKinds.Role, roles);
        Add(AuditKinds.Permission, (await db.Permissions.AsNoTracking().WhereAnyContains(text, p => p.Name)
            .OrderBy(p => p.Name).Select(p => p.Id).Take(MatchesPerKind).ToListAsync(cancellationToken)).Select(Text));
        Add(AuditKinds.Connector, (await db.Connectors.AsNoTracking().WhereAnyContains(text, c => c.Name)
            .OrderBy(c => c.Name).Select(c => c.Id).Take(MatchesPerKind).ToListAsync(cancellationToken)).Select(Text));
        Add(AuditKinds.SodRule, (await db.SeparationOfDutyRules.AsNoTracking().WhereAnyContains(text, r => r.Name)
            .OrderBy(r => r.Name).Select(r => r.Id).Take(MatchesPerKind).ToListAsync(cancellationToken)).Select(Text));
        foreach (var deleted in await DeletedNamedAsync(text, cancellationToken))
        {
            Add(deleted.Kind, [deleted.Id]);
        }

        var parts = ids.Where(k => k.Value.Count > 0).Select(k => Of(k.Key, [.. k.Value])).ToList();
        // Who was granted the role, and when it ended, are events about the person; their snapshot names the role's id.
        foreach (var role in roles.Take(RolesWithGrants))
        {
            var tag = $"\"roleId\":\"{role}\"";
            parts.Add(e => e.Type.StartsWith(AssignmentEvents) && ((e.After != null && e.After.Contains(tag)) || (e.Before != null && e.Before.Contains(tag))));
        }

        return parts;
    }

    /// <summary>The ids of the people <paramref name="text"/> names (user name, display name, employee number), the first ones by display name.</summary>
    public async Task<List<string>> UsersNamedAsync(string text, CancellationToken cancellationToken) =>
        await db.Users.AsNoTracking().WhereAnyContains(text, u => u.UserName, u => u.DisplayName, u => u.EmployeeNumber)
            .OrderBy(u => u.DisplayName).Select(u => u.Id).Take(MatchesPerKind).ToListAsync(cancellationToken);

    private static Expression<Func<AuditEvent, bool>> Of(string kind, List<string> ids) => e => e.TargetType == kind && ids.Contains(e.TargetId!);

    private async Task<List<(string Kind, string Id)>> DeletedNamedAsync(string text, CancellationToken cancellationToken)
    {
        var deletions = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Type.EndsWith(Deletions) && e.TargetType != null && e.TargetId != null && e.Before != null)
            .WhereAnyContains(text, e => e.Before)
            .OrderByDescending(e => e.Sequence).Select(e => new { e.TargetType, e.TargetId, e.Before }).Take(MatchesPerKind)
            .ToListAsync(cancellationToken);
        // The snapshot's text matched somewhere; it counts only when its name (or key) does.
        return [.. deletions
            .Where(d => Recorded(d.TargetType!, d.Before) is { } named
                && (named.Name.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase) || named.Key?.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase) == true))
            .Select(d => (d.TargetType!, d.TargetId!))];
    }

    private async Task<Dictionary<(string Kind, string Id), AuditSubject>> LiveAsync(ILookup<string, string> wanted, CancellationToken cancellationToken)
    {
        var found = new Dictionary<(string Kind, string Id), AuditSubject>();
        void Found(AuditSubject subject) => found[(subject.Kind, subject.Id)] = subject;

        if (wanted[AuditKinds.User].ToList() is { Count: > 0 } users)
        {
            foreach (var u in await db.Users.AsNoTracking().Where(u => users.Contains(u.Id)).Select(u => new { u.Id, u.DisplayName, u.UserName }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.User, u.Id, u.DisplayName.Length > 0 ? u.DisplayName : u.UserName ?? u.Id, u.UserName));
            }
        }

        if (wanted[AuditKinds.Client].ToList() is { Count: > 0 } clients)
        {
            foreach (var a in await db.Applications.AsNoTracking().Where(a => a.OidcClientId != null && clients.Contains(a.OidcClientId))
                .Select(a => new { a.Id, a.Name, a.OidcClientId }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Client, a.OidcClientId!, a.Name, a.OidcClientId, a.Id));
            }
        }

        if (Guids(wanted[AuditKinds.Department]) is { Count: > 0 } departments)
        {
            foreach (var d in await db.Departments.AsNoTracking().Where(d => departments.Contains(d.Id)).Select(d => new { d.Id, d.Name, d.Code }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Department, Text(d.Id), d.Name, d.Code));
            }
        }

        if (Guids(wanted[AuditKinds.Application]) is { Count: > 0 } applications)
        {
            foreach (var a in await db.Applications.AsNoTracking().Where(a => applications.Contains(a.Id)).Select(a => new { a.Id, a.Name }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Application, Text(a.Id), a.Name, ApplicationId: a.Id));
            }
        }

        if (Guids(wanted[AuditKinds.Role]) is { Count: > 0 } roles)
        {
            foreach (var r in await db.AccessRoles.AsNoTracking().Where(r => roles.Contains(r.Id)).Select(r => new { r.Id, r.Name, r.DisplayName, r.ApplicationId }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Role, Text(r.Id), string.IsNullOrEmpty(r.DisplayName) ? r.Name : r.DisplayName, string.IsNullOrEmpty(r.DisplayName) ? null : r.Name, r.ApplicationId));
            }
        }

        if (Guids(wanted[AuditKinds.Permission]) is { Count: > 0 } permissions)
        {
            foreach (var p in await db.Permissions.AsNoTracking().Where(p => permissions.Contains(p.Id)).Select(p => new { p.Id, p.Name, p.ApplicationId }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Permission, Text(p.Id), p.Name, ApplicationId: p.ApplicationId));
            }
        }

        if (Guids(wanted[AuditKinds.Connector]) is { Count: > 0 } connectors)
        {
            foreach (var c in await db.Connectors.AsNoTracking().Where(c => connectors.Contains(c.Id)).Select(c => new { c.Id, c.Name, c.ApplicationId }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.Connector, Text(c.Id), c.Name, ApplicationId: c.ApplicationId));
            }
        }

        if (Guids(wanted[AuditKinds.SodRule]) is { Count: > 0 } rules)
        {
            foreach (var r in await db.SeparationOfDutyRules.AsNoTracking().Where(r => rules.Contains(r.Id)).Select(r => new { r.Id, r.Name }).ToListAsync(cancellationToken))
            {
                Found(new(AuditKinds.SodRule, Text(r.Id), r.Name));
            }
        }

        return found;
    }

    /// <summary>What the deletion of each target that no longer exists recorded about it: its own event first, else its deletion event.</summary>
    private async Task<Dictionary<(string Kind, string Id), AuditSubject>> RecordedAsync(
        IReadOnlyList<AuditEvent> events, Dictionary<(string Kind, string Id), AuditSubject> live, CancellationToken cancellationToken)
    {
        var recorded = new Dictionary<(string Kind, string Id), AuditSubject>();
        var gone = events.Where(e => e.TargetType is not null && e.TargetId is not null && IsNamedKind(e.TargetType) && !live.ContainsKey((e.TargetType, Normalize(e.TargetType, e.TargetId))))
            .ToList();
        foreach (var e in gone.Where(e => e.Type.EndsWith(Deletions, StringComparison.Ordinal)))
        {
            Remember(recorded, e.TargetType!, e.TargetId!, e.Before);
        }

        foreach (var kind in gone.Where(e => !recorded.ContainsKey((e.TargetType!, Normalize(e.TargetType!, e.TargetId!)))).GroupBy(e => e.TargetType!))
        {
            var ids = kind.Select(e => e.TargetId!).Distinct(StringComparer.Ordinal).ToList();
            var deletions = await db.AuditEvents.AsNoTracking()
                .Where(e => e.TargetType == kind.Key && ids.Contains(e.TargetId!) && e.Type.EndsWith(Deletions) && e.Before != null)
                .OrderByDescending(e => e.Sequence).Select(e => new { e.TargetId, e.Before }).ToListAsync(cancellationToken);
            foreach (var deletion in deletions)
            {
                Remember(recorded, kind.Key, deletion.TargetId!, deletion.Before);
            }
        }

        return recorded;
    }

    private static void Remember(Dictionary<(string Kind, string Id), AuditSubject> recorded, string kind, string id, string? snapshot)
    {
        var key = (kind, Normalize(kind, id));
        if (!recorded.ContainsKey(key) && Recorded(kind, snapshot) is { } named)
        {
            recorded[key] = new AuditSubject(kind, key.Item2, named.Name, named.Key, named.ApplicationId, Deleted: true);
        }
    }

    private static AuditSubject ActorOf(AuditEvent e, Dictionary<(string Kind, string Id), AuditSubject> live) =>
        e.ActorId == Audit.Actor.System.Id ? new AuditSubject(AuditKinds.System, e.ActorId, e.ActorName)
        : live.GetValueOrDefault((AuditKinds.User, e.ActorId)) ?? live.GetValueOrDefault((AuditKinds.Client, e.ActorId))
        ?? new AuditSubject(AuditKinds.Unknown, e.ActorId, e.ActorName);

    private static AuditSubject? TargetOf(AuditEvent e, Dictionary<(string Kind, string Id), AuditSubject> live, Dictionary<(string Kind, string Id), AuditSubject> recorded)
    {
        if (e.TargetType is not { } kind || e.TargetId is not { } id)
        {
            return null;
        }

        var key = (kind, Normalize(kind, id));
        return live.GetValueOrDefault(key) ?? recorded.GetValueOrDefault(key)
            // Gone without a deletion on record (a client of a removed application), or a kind with no name (a signing key): its id is its name.
            ?? new AuditSubject(kind, id, id, Deleted: IsNamedKind(kind));
    }

    /// <summary>The name (and key, and application) a snapshot recorded: <c>displayName</c>, <c>name</c> or <c>userName</c>.</summary>
    internal static (string Name, string? Key, Guid? ApplicationId)? Recorded(string kind, string? snapshot)
    {
        if (string.IsNullOrEmpty(snapshot))
        {
            return null;
        }

        try
        {
            using var json = JsonDocument.Parse(snapshot);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? Read(string property) =>
                json.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
            var displayName = Read("displayName");
            var name = displayName ?? Read("name") ?? Read("userName");
            if (name is null)
            {
                return null;
            }

            var key = kind switch
            {
                AuditKinds.Role => displayName is null ? null : Read("name"),
                AuditKinds.User => Read("userName"),
                AuditKinds.Department => Read("code"),
                _ => null,
            };
            var application = Guid.TryParse(Read("applicationId"), out var applicationId) ? applicationId : (Guid?)null;
            return (name, key, application);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsNamedKind(string kind) => AuditKinds.ByGuid.Contains(kind) || kind is AuditKinds.User or AuditKinds.Client;

    /// <summary>GUID ids as <see cref="Guid.ToString()"/> writes them, so a differently cased id still finds its target.</summary>
    private static string Normalize(string kind, string id) =>
        AuditKinds.ByGuid.Contains(kind) && Guid.TryParse(id, out var guid) ? Text(guid) : id;

    private static string Text(Guid id) => id.ToString();

    private static List<Guid> Guids(IEnumerable<string> ids) => [.. ids.Select(id => Guid.TryParse(id, out var guid) ? guid : Guid.Empty).Where(g => g != Guid.Empty).Distinct()];
}

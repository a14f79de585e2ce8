using System.Linq.Expressions;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Queries;

/// <summary>
/// What the audit trail is narrowed to; every field optional. <see cref="Actor"/>: an actor's id, or part of their name.
/// <see cref="Target"/>: a target's id, a target type (<c>user</c>), or the name of a user, department, application, role,
/// permission, connector or rule. <see cref="Type"/>: an event type, or its prefix (<c>user.</c>, or <c>user</c> for every
/// <c>user.*</c> event). <see cref="From"/> inclusive, <see cref="To"/> exclusive. <see cref="Text"/>: free text matched
/// against the type, the actor's name and the target's name.
/// </summary>
public sealed record AuditSearch(
    string? Actor = null, string? TargetType = null, string? Target = null, string? Type = null,
    DateTimeOffset? From = null, DateTimeOffset? To = null, string? Text = null);

/// <summary>Reads of the audit trail shared by the console and the admin API, every event with its actor and target named.</summary>
public sealed class AuditQueries(IdentityHubDbContext db)
{
    private readonly AuditNaming _naming = new(db);

    /// <summary>
    /// The events <paramref name="search"/> picks, unordered, for the caller's sort and page. Names are looked up now (the
    /// rows themselves are never rewritten), so the query holds the ids they stand for.
    /// </summary>
    public async Task<IQueryable<AuditEvent>> FindAsync(AuditSearch search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        var query = db.AuditEvents.AsNoTracking();
        if (Trimmed(search.Actor) is { } actor)
        {
            var people = await _naming.UsersNamedAsync(actor, cancellationToken);
            query = query.Where(Search.AnyOf<AuditEvent>([e => e.ActorId == actor, Search.ContainsText<AuditEvent>(e => e.ActorName, actor), e => people.Contains(e.ActorId)]));
        }

        if (Trimmed(search.TargetType) is { } targetType)
        {
            query = query.Where(e => e.TargetType == targetType);
        }

        if (Trimmed(search.Target) is { } target)
        {
            var named = await _naming.TargetsNamedAsync(target, cancellationToken);
            query = query.Where(Search.AnyOf(named.Prepend(e => e.TargetId == target || e.TargetType == target)));
        }

        if (Trimmed(search.Type) is { } type)
        {
            var prefix = type.EndsWith('.') ? type : type + ".";
            query = type.EndsWith('.') ? query.Where(e => e.Type.StartsWith(prefix)) : query.Where(e => e.Type == type || e.Type.StartsWith(prefix));
        }

        if (search.From is { } from)
        {
            query = query.Where(e => e.OccurredAt >= from);
        }

        if (search.To is { } to)
        {
            query = query.Where(e => e.OccurredAt < to);
        }

        if (Trimmed(search.Text) is { } text)
        {
            var people = await _naming.UsersNamedAsync(text, cancellationToken);
            var parts = new List<Expression<Func<AuditEvent, bool>>>
            {
                Search.ContainsText<AuditEvent>(e => e.Type, text),
                Search.ContainsText<AuditEvent>(e => e.ActorName, text),
                e => people.Contains(e.ActorId),
            };
            parts.AddRange(await _naming.TargetsNamedAsync(text, cancellationToken));
            query = query.Where(Search.AnyOf(parts));
        }

        return query;
    }

    /// <summary>Names the actor and target of each event (in the order given).</summary>
    public Task<IReadOnlyList<AuditEntry>> NameAsync(IReadOnlyList<AuditEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        return _naming.NameAsync(events, cancellationToken);
    }

    /// <summary>One page (from 1) of what <paramref name="search"/> picks, newest first, with the total.</summary>
    public async Task<(IReadOnlyList<AuditEntry> Items, int Total)> PageAsync(AuditSearch search, int page, int pageSize, CancellationToken cancellationToken)
    {
        var query = await FindAsync(search, cancellationToken);
        var total = await query.CountAsync(cancellationToken);
        var events = await query.OrderByDescending(e => e.Sequence).Skip((Math.Max(1, page) - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return (await NameAsync(events, cancellationToken), total);
    }

    /// <summary>The latest <paramref name="count"/> events.</summary>
    public async Task<IReadOnlyList<AuditEntry>> RecentAsync(int count, CancellationToken cancellationToken) =>
        await NameAsync(await db.AuditEvents.AsNoTracking().OrderByDescending(e => e.Sequence).Take(count).ToListAsync(cancellationToken), cancellationToken);

    /// <summary>The latest <paramref name="count"/> events about a person or by them.</summary>
    public async Task<IReadOnlyList<AuditEntry>> OfUserAsync(string userId, int count, CancellationToken cancellationToken) =>
        await NameAsync(await db.AuditEvents.AsNoTracking().Where(e => e.TargetId == userId || e.ActorId == userId)
            .OrderByDescending(e => e.Sequence).Take(count).ToListAsync(cancellationToken), cancellationToken);

    /// <summary>When each event of <paramref name="types"/> since <paramref name="start"/> happened (the dashboard's sign-in chart).</summary>
    public async Task<IReadOnlyList<(string Type, DateTimeOffset OccurredAt)>> OccurrencesAsync(
        IReadOnlyCollection<string> types, DateTimeOffset start, CancellationToken cancellationToken)
    {
        var wanted = types.ToArray();
        var rows = await db.AuditEvents.AsNoTracking().Where(e => wanted.Contains(e.Type) && e.OccurredAt >= start)
            .Select(e => new { e.Type, e.OccurredAt }).ToListAsync(cancellationToken);
        return [.. rows.Select(r => (r.Type, r.OccurredAt))];
    }

    private static string? Trimmed(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}

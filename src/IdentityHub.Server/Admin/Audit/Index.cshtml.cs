using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Audit;

/// <summary>The audit viewer: filter by actor, target, type and time, page through, check the hash chain, export.</summary>
public sealed class IndexModel(IdentityHubDbContext db, AuditTrail audit) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public AuditFilter Filter { get; set; } = new();

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditEvent> Events { get; private set; } = [];

    public int Total { get; private set; }

    /// <summary>Set when the "verify chain" button was pressed.</summary>
    public AuditVerification? Verification { get; private set; }

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, PageNumber);
        var query = Filter.Apply(db.AuditEvents.AsNoTracking());
        Total = await query.CountAsync(cancellationToken);
        Events = await query.OrderByDescending(e => e.Sequence).Skip((PageNumber - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);
    }

    /// <summary>Walks the whole hash chain (a read: the auditor may press it too).</summary>
    public async Task OnGetVerifyAsync(CancellationToken cancellationToken)
    {
        Verification = await audit.VerifyAsync(cancellationToken);
        await OnGetAsync(cancellationToken);
    }

    /// <summary>The current filters as query parameters, for paging and export links.</summary>
    public string Query(int? page = null, string? format = null)
    {
        var parts = new List<KeyValuePair<string, string?>>
        {
            new("actor", Filter.Actor), new("target", Filter.Target), new("type", Filter.Type),
            new("from", Filter.From?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            new("to", Filter.To?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)),
            new("format", format), new("p", page?.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        return Microsoft.AspNetCore.Http.QueryString.Create(parts.Where(p => !string.IsNullOrEmpty(p.Value))).ToString();
    }
}

/// <summary>What the audit viewer narrows the trail to; every field optional.</summary>
public sealed class AuditFilter
{
    /// <summary>An actor's id, or part of their name.</summary>
    public string? Actor { get; set; }

    /// <summary>A target's id, or a target type (<c>user</c>, <c>department</c>).</summary>
    public string? Target { get; set; }

    /// <summary>An event type or its prefix (<c>assignment.</c>).</summary>
    public string? Type { get; set; }

    public DateOnly? From { get; set; }

    /// <summary>Inclusive: the whole day counts.</summary>
    public DateOnly? To { get; set; }

    public IQueryable<AuditEvent> Apply(IQueryable<AuditEvent> events)
    {
        if (Actor is { Length: > 0 } actor)
        {
            events = events.Where(e => e.ActorId == actor || e.ActorName.Contains(actor));
        }

        if (Target is { Length: > 0 } target)
        {
            events = events.Where(e => e.TargetId == target || e.TargetType == target);
        }

        if (Type is { Length: > 0 } type)
        {
            events = events.Where(e => e.Type.StartsWith(type));
        }

        if (From is { } from)
        {
            var start = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.OccurredAt >= start);
        }

        if (To is { } to)
        {
            var end = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            events = events.Where(e => e.OccurredAt < end);
        }

        return events;
    }
}

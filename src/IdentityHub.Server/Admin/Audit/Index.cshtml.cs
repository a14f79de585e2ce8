using IdentityHub.Core.Audit;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Admin.Audit;

/// <summary>
/// The audit viewer: search by free text, filter by actor, target (by name or id), type and time, page through, check the
/// hash chain, export. Actors and targets are shown by name, with a link to them.
/// </summary>
public sealed class IndexModel(AuditQueries queries, AuditTrail audit) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public AuditFilter Filter { get; set; } = new();

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<AuditEntry> Events { get; private set; } = [];

    public int Total { get; private set; }

    /// <summary>Set when the "verify chain" button was pressed.</summary>
    public AuditVerification? Verification { get; private set; }

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, PageNumber);
        (Events, Total) = await queries.PageAsync(Filter.ToSearch(), PageNumber, PageSize, cancellationToken);
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
            new("q", Filter.Q), new("actor", Filter.Actor), new("target", Filter.Target), new("type", Filter.Type),
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
    /// <summary>Free text: part of an event type, of the actor's name or of the target's name.</summary>
    public string? Q { get; set; }

    /// <summary>An actor's id, or part of their name.</summary>
    public string? Actor { get; set; }

    /// <summary>A target's name (a person, department, application, role, connector...), its id, or a target type (<c>user</c>).</summary>
    public string? Target { get; set; }

    /// <summary>An event type or its prefix (<c>assignment.</c>).</summary>
    public string? Type { get; set; }

    public DateOnly? From { get; set; }

    /// <summary>Inclusive: the whole day counts.</summary>
    public DateOnly? To { get; set; }

    public AuditSearch ToSearch() => new(
        Actor, TargetType: null, Target, Type,
        From is { } from ? new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        To is { } to ? new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
        Q);
}

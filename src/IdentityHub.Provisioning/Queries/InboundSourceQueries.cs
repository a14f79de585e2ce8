using System.Text.Json;
using IdentityHub.Core.Inbound;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Queries;

/// <summary>How a source is doing, from its latest finished run.</summary>
public enum SourceHealth
{
    /// <summary>The latest run went through without a failed record.</summary>
    Ok,

    /// <summary>The latest run stopped (the source could not be read) or failed records.</summary>
    Failing,

    /// <summary>No run has finished yet (a push source nobody pushed to, a pull source before its first run).</summary>
    NeverRun,

    /// <summary>The source is switched off: its token is refused, it is not pulled.</summary>
    Disabled,
}

/// <summary>One run of a source with its counts, its last errors and whether it carries a report.</summary>
public sealed record InboundRunView(
    Guid Id, Guid SourceId, InboundRunKind Kind, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string RequestedBy,
    int Created, int Updated, int Left, int Skipped, int Conflicts, int Failed, IReadOnlyList<string> Errors, string? Failure, bool HasReport)
{
    public bool Finished => FinishedAt is not null;
}

/// <summary>A source in the list: health, the latest run and how many people and departments it owns.</summary>
public sealed record InboundSourceRow(
    Guid Id, string Name, InboundSourceKind Kind, bool Enabled, SourceHealth Health, InboundRunView? LastRun, int People, int Departments);

/// <summary>A department subtree a source writes, named by its path of names ("Company / Finance") as the pickers name it.</summary>
public sealed record SourceSubtreeView(Guid DepartmentId, string Code, string Name, string Path)
{
    /// <summary>"Company / Finance · FIN", the department picker's own label.</summary>
    public string Label => $"{Path} · {Code}";
}

/// <summary>A clash over an owned attribute, with the person's name (and user name) instead of an id alone.</summary>
public sealed record InboundConflictView(
    long Id, string UserId, string? UserDisplayName, string? UserName, string Attribute, string? LocalValue, string? SourceValue, string Resolution,
    string? ChangedBy, DateTimeOffset OccurredAt);

/// <summary>
/// A run's report (reconciliation, dry run) laid out for display without knowing its exact shape: the top-level numbers and
/// texts as <see cref="Figures"/>, every list as a <see cref="ReportTable"/> (the union of its objects' members as columns).
/// </summary>
public sealed record SourceReport(Guid RunId, InboundRunKind Kind, DateTimeOffset StartedAt, IReadOnlyList<KeyValuePair<string, string>> Figures, IReadOnlyList<ReportTable> Tables);

public sealed record ReportTable(string Name, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows, int Total);

/// <summary>Everything the console's source page and the API's GET /sources/{id} show; never a secret, never a token.</summary>
public sealed record InboundSourceDetail(
    Guid Id, string Name, InboundSourceKind Kind, bool Enabled, SourceHealth Health, IReadOnlyList<SourceSubtreeView> Subtrees,
    IReadOnlyList<string> OwnedAttributes, OwnershipConflictPolicy ConflictPolicy, string Settings, bool HasSecret, string? TokenHint,
    DateTimeOffset? TokenIssuedAt, string? Cursor, bool FirstImportApproved, DateTimeOffset? NextIncrementAt, DateTimeOffset? NextReconciliationAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int People, int Departments, IReadOnlyList<InboundRunView> Runs, IReadOnlyList<string> LastErrors,
    SourceReport? Report, IReadOnlyList<InboundConflictView> Conflicts, bool InviteNewUsers = false)
{
    /// <summary>Whether a dry run has finished and the first import still waits for an administrator's approval.</summary>
    public bool AwaitsApproval => Kind == InboundSourceKind.Rest && !FirstImportApproved && Runs.Any(r => r.Kind == InboundRunKind.DryRun && r.Finished && r.Failure is null);
}

/// <summary>
/// The inbound sources read model shared by the admin API and the console pages under Admin/Sources: the list with health
/// and the latest run, one source with its runs, errors, latest report and conflicts, and the runs and conflicts paged.
/// </summary>
public sealed class InboundSourceQueries(IdentityHubDbContext db, DirectoryLookup lookup)
{
    /// <summary>How many runs and conflicts the detail shows (the API pages through all of them).</summary>
    public const int RecentRuns = 20;
    public const int RecentConflicts = 20;

    /// <summary>How many rows of one report table are shown; the total says how many there were.</summary>
    public const int ReportRowsShown = 200;

    public async Task<IReadOnlyList<InboundSourceRow>> ListAsync(CancellationToken cancellationToken)
    {
        var sources = await db.InboundSources.AsNoTracking().OrderBy(s => s.Name).ToListAsync(cancellationToken);
        var ids = sources.Select(s => s.Id).ToList();
        var people = (await db.Users.Where(u => u.SourceId != null && ids.Contains(u.SourceId.Value)).GroupBy(u => u.SourceId!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken)).ToDictionary(g => g.Key, g => g.Count);
        var departments = (await db.Departments.Where(d => d.SourceId != null && ids.Contains(d.SourceId.Value)).GroupBy(d => d.SourceId!.Value)
            .Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken)).ToDictionary(g => g.Key, g => g.Count);
        var rows = new List<InboundSourceRow>(sources.Count);
        foreach (var source in sources)
        {
            var last = await LatestRunAsync(source.Id, cancellationToken);
            rows.Add(new InboundSourceRow(source.Id, source.Name, source.Kind, source.Enabled, HealthOf(source.Enabled, last), last,
                people.GetValueOrDefault(source.Id), departments.GetValueOrDefault(source.Id)));
        }

        return [.. rows.OrderBy(r => r.Name, StringComparer.CurrentCulture)];
    }

    public async Task<InboundSourceDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var source = await db.InboundSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id, cancellationToken);
        if (source is null)
        {
            return null;
        }

        var subtrees = new List<SourceSubtreeView>();
        foreach (var departmentId in await db.InboundSourceSubtrees.AsNoTracking().Where(t => t.SourceId == id).Select(t => t.DepartmentId).ToListAsync(cancellationToken))
        {
            if (await lookup.DepartmentAsync(departmentId, cancellationToken) is { } d)
            {
                subtrees.Add(new SourceSubtreeView(d.Id, d.Code, d.Name, d.Path));
            }
        }

        var runs = await RunsAsync(id, 0, RecentRuns, cancellationToken);
        var latestFinished = runs.FirstOrDefault(r => r.Finished);
        var lastErrors = runs.FirstOrDefault(r => r.Errors.Count > 0 || r.Failure is not null) is { } failing
            ? (failing.Failure is null ? failing.Errors : [failing.Failure, .. failing.Errors])
            : [];
        return new InboundSourceDetail(
            source.Id, source.Name, source.Kind, source.Enabled, HealthOf(source.Enabled, latestFinished ?? await LatestRunAsync(id, cancellationToken)),
            [.. subtrees.OrderBy(t => t.Path, StringComparer.CurrentCulture)], [.. SourceAttributes.All.Where(SourceAttributes.Parse(source.OwnedAttributes).Contains)],
            source.ConflictPolicy, source.Settings, source.ProtectedSecret is not null, source.TokenHint, source.TokenIssuedAt, source.Cursor,
            source.FirstImportApproved, source.NextIncrementAt, source.NextReconciliationAt, source.CreatedAt, source.UpdatedAt,
            await db.Users.CountAsync(u => u.SourceId == id, cancellationToken), await db.Departments.CountAsync(d => d.SourceId == id, cancellationToken),
            runs, lastErrors, await LatestReportAsync(id, cancellationToken), await ConflictsAsync(id, 0, RecentConflicts, cancellationToken),
            source.InviteNewUsers);
    }

    public Task<bool> ExistsAsync(Guid id, CancellationToken cancellationToken) => db.InboundSources.AnyAsync(s => s.Id == id, cancellationToken);

    public Task<string?> NameAsync(Guid id, CancellationToken cancellationToken) =>
        db.InboundSources.Where(s => s.Id == id).Select(s => s.Name).SingleOrDefaultAsync(cancellationToken);

    /// <summary>The source's runs, newest first.</summary>
    public async Task<IReadOnlyList<InboundRunView>> RunsAsync(Guid sourceId, int skip, int take, CancellationToken cancellationToken)
    {
        var runs = await db.InboundRuns.AsNoTracking().Where(r => r.SourceId == sourceId)
            .OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
        return [.. runs.Select(ViewOf)];
    }

    public Task<int> CountRunsAsync(Guid sourceId, CancellationToken cancellationToken) => db.InboundRuns.CountAsync(r => r.SourceId == sourceId, cancellationToken);

    /// <summary>The source's conflicts, newest first, with the people's names.</summary>
    public async Task<IReadOnlyList<InboundConflictView>> ConflictsAsync(Guid sourceId, int skip, int take, CancellationToken cancellationToken) =>
        await (from c in db.InboundConflicts.AsNoTracking().Where(c => c.SourceId == sourceId)
               join u in db.Users on c.UserId equals u.Id into people
               from u in people.DefaultIfEmpty()
               orderby c.OccurredAt descending, c.Id descending
               select new InboundConflictView(c.Id, c.UserId, u == null ? null : u.DisplayName, u == null ? null : u.UserName, c.Attribute, c.LocalValue,
                   c.SourceValue, c.Resolution, c.ChangedBy, c.OccurredAt))
            .Skip(skip).Take(take).ToListAsync(cancellationToken);

    public Task<int> CountConflictsAsync(Guid sourceId, CancellationToken cancellationToken) => db.InboundConflicts.CountAsync(c => c.SourceId == sourceId, cancellationToken);

    /// <summary>The report of one run of the source (or of its latest run that has one), laid out for display; null when there is none.</summary>
    public async Task<SourceReport?> ReportAsync(Guid sourceId, Guid? runId, CancellationToken cancellationToken)
    {
        if (runId is null)
        {
            return await LatestReportAsync(sourceId, cancellationToken);
        }

        var run = await db.InboundRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && r.SourceId == sourceId && r.Report != null, cancellationToken);
        return run is null ? null : Lay(run);
    }

    /// <summary>Health from the latest run: a disabled source is disabled whatever its runs did.</summary>
    public static SourceHealth HealthOf(bool enabled, InboundRunView? latest) =>
        !enabled ? SourceHealth.Disabled
        : latest is not { Finished: true } ? SourceHealth.NeverRun
        : latest.Failure is not null || latest.Failed > 0 ? SourceHealth.Failing
        : SourceHealth.Ok;

    /// <summary>A report as figures and tables; a report that is no JSON object is shown as one figure with its text.</summary>
    public static SourceReport Lay(InboundRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var figures = new List<KeyValuePair<string, string>>();
        var tables = new List<ReportTable>();
        try
        {
            using var document = JsonDocument.Parse(run.Report ?? "{}");
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                Lay(document.RootElement, "", figures, tables);
            }
            else if (document.RootElement.ValueKind == JsonValueKind.Array)
            {
                tables.Add(TableOf("items", document.RootElement));
            }
            else
            {
                figures.Add(new("report", Text(document.RootElement)));
            }
        }
        catch (JsonException)
        {
            figures.Add(new("report", run.Report ?? ""));
        }

        return new SourceReport(run.Id, run.Kind, run.StartedAt, figures, tables);
    }

    private static void Lay(JsonElement element, string prefix, List<KeyValuePair<string, string>> figures, List<ReportTable> tables)
    {
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix + property.Name;
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Array:
                    tables.Add(TableOf(name, property.Value));
                    break;
                case JsonValueKind.Object:
                    Lay(property.Value, name + ".", figures, tables);
                    break;
                default:
                    figures.Add(new(name, Text(property.Value)));
                    break;
            }
        }
    }

    private static ReportTable TableOf(string name, JsonElement array)
    {
        var items = array.EnumerateArray().ToList();
        var columns = new List<string>();
        foreach (var item in items.Where(i => i.ValueKind == JsonValueKind.Object).Take(ReportRowsShown))
        {
            columns.AddRange(item.EnumerateObject().Select(p => p.Name).Where(n => !columns.Contains(n)));
        }

        if (columns.Count == 0 || items.Any(i => i.ValueKind != JsonValueKind.Object))
        {
            columns.Insert(0, "value");
        }

        var rows = items.Take(ReportRowsShown).Select(item => (IReadOnlyList<string>)[.. columns.Select(c =>
            item.ValueKind == JsonValueKind.Object ? (item.TryGetProperty(c, out var v) ? Text(v) : "") : c == "value" ? Text(item) : "")]).ToList();
        return new ReportTable(name, columns, rows, items.Count);
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => value.GetRawText(),
    };

    /// <summary>The source's latest run that carries a report (reconciliation, dry run), as stored; null when none has.</summary>
    public Task<InboundRun?> LatestReportRunAsync(Guid sourceId, CancellationToken cancellationToken) =>
        db.InboundRuns.AsNoTracking().Where(r => r.SourceId == sourceId && r.Report != null)
            .OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);

    private async Task<SourceReport?> LatestReportAsync(Guid sourceId, CancellationToken cancellationToken) =>
        await LatestReportRunAsync(sourceId, cancellationToken) is { } run ? Lay(run) : null;

    private async Task<InboundRunView?> LatestRunAsync(Guid sourceId, CancellationToken cancellationToken)
    {
        var run = await db.InboundRuns.AsNoTracking().Where(r => r.SourceId == sourceId && r.FinishedAt != null)
            .OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        return run is null ? null : ViewOf(run);
    }

    /// <summary>A run as the pages and the API show it.</summary>
    public static InboundRunView ViewOf(InboundRun r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.Id, r.SourceId, r.Kind, r.StartedAt, r.FinishedAt, r.RequestedBy, r.Created, r.Updated, r.Left, r.Skipped, r.Conflicts, r.Failed,
            ErrorsOf(r.Errors), r.Failure, r.Report is not null);
    }

    private static List<string> ErrorsOf(string? errors)
    {
        if (string.IsNullOrEmpty(errors))
        {
            return [];
        }

        try
        {
            return JsonSerializer.Deserialize<List<string>>(errors) ?? [];
        }
        catch (JsonException)
        {
            return [errors];
        }
    }
}

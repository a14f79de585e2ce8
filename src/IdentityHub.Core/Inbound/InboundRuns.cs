using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Inbound;

/// <summary>What one record did to a run's counts; <see cref="Error"/> is the refusal's text when it failed.</summary>
public sealed record IntakeTally(IntakeOutcome? Outcome, string? Error = null, bool Conflict = false, bool Skipped = false)
{
    public static IntakeTally Of(IntakeOutcome outcome) => new(outcome);

    public static IntakeTally Failed(string error, bool conflict) => new(null, error, conflict);
}

/// <summary>
/// Keeps the counts of a source's runs (created, updated, left, skipped, conflicts, failed) and their last errors,
/// so the console shows each source's health. Pushes count into one run per source and UTC day.
/// </summary>
public sealed class InboundRuns(IdentityHubDbContext db, TimeProvider clock)
{
    public const int KeptErrors = 20;

    public static void Count(InboundRun run, IntakeTally tally)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(tally);
        switch (tally.Outcome)
        {
            case IntakeOutcome.Created: run.Created++; break;
            case IntakeOutcome.Updated: run.Updated++; break;
            case IntakeOutcome.Left: run.Left++; break;
            case IntakeOutcome.Unchanged: break;
            case null when tally.Skipped: run.Skipped++; break;
            case null: run.Failed++; break;
        }

        if (tally.Conflict)
        {
            run.Conflicts++;
        }

        if (tally.Error is { } error)
        {
            run.Errors = AppendError(run.Errors, error);
        }
    }

    /// <summary>The run's error list with <paramref name="error"/> added, keeping the last <see cref="KeptErrors"/>.</summary>
    public static string AppendError(string? errors, string error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var list = errors is null ? [] : JsonSerializer.Deserialize<List<string>>(errors) ?? [];
        list.Add(error.Length > 500 ? error[..500] : error);
        return JsonSerializer.Serialize(list.TakeLast(KeptErrors));
    }

    public async Task<InboundRun> StartAsync(Guid sourceId, InboundRunKind kind, string requestedBy, CancellationToken cancellationToken)
    {
        var run = new InboundRun { Id = Guid.CreateVersion7(), SourceId = sourceId, Kind = kind, StartedAt = Revision.Now(clock), RequestedBy = requestedBy };
        db.InboundRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        return run;
    }

    /// <summary>
    /// Counts one pushed record into the source's run of the day (created on the day's first push). The counts are
    /// added in the database, so pushes counted at the same moment on any node all count.
    /// </summary>
    public async Task CountPushAsync(Guid sourceId, IntakeTally tally, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tally);
        var now = Revision.Now(clock);
        var id = PushRunId(sourceId, now);
        var delta = new InboundRun { RequestedBy = "push" };
        Count(delta, tally with { Error = null });
        for (var attempt = 0; ; attempt++)
        {
            var counted = await db.InboundRuns.Where(r => r.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Created, r => r.Created + delta.Created)
                .SetProperty(r => r.Updated, r => r.Updated + delta.Updated)
                .SetProperty(r => r.Left, r => r.Left + delta.Left)
                .SetProperty(r => r.Skipped, r => r.Skipped + delta.Skipped)
                .SetProperty(r => r.Conflicts, r => r.Conflicts + delta.Conflicts)
                .SetProperty(r => r.Failed, r => r.Failed + delta.Failed)
                .SetProperty(r => r.FinishedAt, now), cancellationToken);
            if (counted == 1)
            {
                break;
            }

            db.ChangeTracker.Clear();
            delta.Id = id;
            delta.SourceId = sourceId;
            delta.Kind = InboundRunKind.Push;
            delta.StartedAt = now;
            delta.FinishedAt = now;
            db.InboundRuns.Add(delta);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another request created the day's run first: add to it instead.
                db.ChangeTracker.Clear();
                delta = new InboundRun { RequestedBy = "push" };
                Count(delta, tally with { Error = null });
            }
        }

        if (tally.Error is not null)
        {
            db.ChangeTracker.Clear();
            var run = await db.InboundRuns.SingleAsync(r => r.Id == id, cancellationToken);
            run.Errors = AppendError(run.Errors, tally.Error);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>One run per source and day: its id is derived from both, so concurrent first pushes meet on one row.</summary>
    private static Guid PushRunId(Guid sourceId, DateTimeOffset now)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{sourceId:N}/{now.UtcDateTime:yyyy-MM-dd}"));
        return new Guid(hash.AsSpan(0, 16));
    }
}

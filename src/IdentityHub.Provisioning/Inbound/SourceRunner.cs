using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Inbound.Rest;
using IdentityHub.Provisioning.Monitoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Provisioning.Inbound;

/// <summary>
/// Runs a pull source now: an increment (departments, then the people changed since the cursor, then the deletions), a
/// reconciliation (everything read first, then compared record by record with IdentityHub, reported and applied; people
/// of the source missing from the full read are marked as left) or a dry run (the same, inside one transaction rolled
/// back, so its report is exactly what a commit would do). Every record goes through <see cref="OrganisationIntake"/> in
/// its own transaction; a refused record is counted as failed with its error and the run goes on (the nightly
/// reconciliation tries it again). One run of a source at a time, on any node (<see cref="InboundSource.RunClaimedAt"/>).
/// </summary>
public sealed class SourceRunner(
    IdentityHubDbContext db, OrganisationIntake intake, InboundRuns runs, RestSourceReader reader, RestSourceCompilerCache compiler,
    ConnectorSecrets secrets, AuditTrail audit, CurrentActor actor, ProvisioningMetrics metrics, TimeProvider clock, ILogger<SourceRunner> logger)
{
    /// <summary>A claim older than this belongs to a node that died mid-run: another run may take the source.</summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromHours(2);

    /// <summary>
    /// Runs one pull now (REST sources) and returns the finished run (counts, errors, report). A SCIM source refuses with
    /// <see cref="RuleViolation"/> (nothing to pull); a run of the same source already going is a <see cref="ViolationKind.Conflict"/>.
    /// Until the first import is approved every run is a dry run.
    /// </summary>
    public async Task<InboundRun> RunAsync(Guid sourceId, InboundRunKind kind, string requestedBy, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(requestedBy);
        EnsureSuperAdministrator();
        var source = await db.InboundSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == sourceId, ct) ?? throw RuleViolation.NotFound("source", sourceId);
        if (source.Kind != InboundSourceKind.Rest)
        {
            throw RuleViolation.Field("kind", $"The source '{source.Name}' pushes over SCIM; there is nothing to pull.", ViolationKind.Invalid, "inbound.nothingToPull", source.Name);
        }

        if (kind is not (InboundRunKind.Increment or InboundRunKind.Reconciliation or InboundRunKind.DryRun))
        {
            throw RuleViolation.Field("kind", "A pull runs as an increment, a reconciliation or a dry run.");
        }

        if (!source.Enabled)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, $"The source '{source.Name}' is disabled.", "inbound.disabled", source.Name);
        }

        // The first import is read and reported only, until an administrator approves it.
        if (!source.FirstImportApproved)
        {
            kind = InboundRunKind.DryRun;
        }

        var claimedAt = await ClaimAsync(sourceId, ct) ?? throw RuleViolation.Coded(ViolationKind.Conflict,
            $"A run of the source '{source.Name}' is going already; wait for it to end.", "inbound.running", source.Name);
        var caller = actor.Value;
        InboundRun? run = null;
        try
        {
            run = await runs.StartAsync(sourceId, kind, requestedBy.Length > 256 ? requestedBy[..256] : requestedBy, ct);
            db.ChangeTracker.Clear();
            var compiled = compiler.Compile(source.Settings);
            if (!compiled.IsValid)
            {
                run.Failure = Shorten(compiled.DescribeErrors());
                return run;
            }

            var pull = new Pull(source, compiled, secrets.Unprotect(source.ProtectedSecret), run, kind);
            try
            {
                if (kind == InboundRunKind.Increment)
                {
                    await IncrementAsync(pull, ct);
                }
                else
                {
                    await FullAsync(pull, ct);
                }
            }
            catch (Exception ex) when (ex is SourceReadException or RestTemplateException)
            {
                // What was applied stays (each record is its own transaction); the cursor stays at the last complete page.
                run.Failure = Shorten(ex.Message);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The node is stopping: a cut-off run is safe for the same reasons, and its record says why it ended early.
                run.Failure = "The node stopped during the run; the next run goes on from the last complete page.";
                throw;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "The {Kind} of source {SourceId} failed unexpectedly.", kind, sourceId);
                run.Failure = Shorten($"The run failed unexpectedly: {ex.Message}");
            }
            finally
            {
                if (pull.Report is { } report)
                {
                    run.Report = report.ToJson();
                }
            }

            return run;
        }
        finally
        {
            actor.Value = caller;
            db.ChangeTracker.Clear();
            if (run is not null)
            {
                run.FinishedAt = Revision.Now(clock);
                db.InboundRuns.Update(run);
                await db.SaveChangesAsync(CancellationToken.None);
                db.ChangeTracker.Clear();
                metrics.RecordInboundRun(source.Name, run.Kind.ToString(), run.Failure is not null, run.FinishedAt.Value - run.StartedAt,
                    [("created", run.Created), ("updated", run.Updated), ("left", run.Left), ("skipped", run.Skipped), ("conflict", run.Conflicts), ("failed", run.Failed)]);
            }

            await db.InboundSources.Where(s => s.Id == sourceId && s.RunClaimedAt == claimedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.RunClaimedAt, (DateTimeOffset?)null), CancellationToken.None);
        }
    }

    /// <summary>The administrator approves the first import after reading the dry-run report: FirstImportApproved = true, audited.</summary>
    public async Task ApproveFirstImportAsync(Guid sourceId, CancellationToken ct)
    {
        EnsureSuperAdministrator();
        var source = await db.InboundSources.SingleOrDefaultAsync(s => s.Id == sourceId, ct) ?? throw RuleViolation.NotFound("source", sourceId);
        if (source.Kind != InboundSourceKind.Rest)
        {
            throw RuleViolation.Field("kind", $"The source '{source.Name}' pushes over SCIM; it has no first import to approve.", ViolationKind.Invalid, "inbound.nothingToPull", source.Name);
        }

        if (source.FirstImportApproved)
        {
            return;
        }

        source.FirstImportApproved = true;
        source.UpdatedAt = Revision.After(source.UpdatedAt, clock);
        // The approved import runs at the schedule's next look, unless an administrator runs it first.
        source.NextIncrementAt = Revision.Now(clock);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync("source.first-import-approved", "source", sourceId.ToString(), new { firstImportApproved = false }, new { firstImportApproved = true }, ct);
            await db.SaveChangesAsync(ct);
        }, ct);
    }

    /// <summary>Takes the source for one run: set only when no run holds it (or the holder's lease ran out); one node's update wins.</summary>
    private async Task<DateTimeOffset?> ClaimAsync(Guid sourceId, CancellationToken ct)
    {
        var now = Revision.Now(clock);
        var lapsed = now - ClaimLease;
        var taken = await db.InboundSources.Where(s => s.Id == sourceId && (s.RunClaimedAt == null || s.RunClaimedAt < lapsed))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.RunClaimedAt, (DateTimeOffset?)now), ct);
        return taken == 1 ? now : null;
    }

    private async Task IncrementAsync(Pull pull, CancellationToken ct)
    {
        var (source, compiled) = (pull.Source, pull.Compiled);
        await DepartmentsAsync(pull, await ReadAllAsync(pull, compiled.Departments, cursor: null, ct), ct);
        var since = source.Cursor;
        var cursor = since;
        if (compiled.People is { } people)
        {
            await foreach (var page in reader.ReadAsync(compiled, source.Id, pull.Secret, people, since, ct))
            {
                foreach (var item in page.Items)
                {
                    cursor = Cursors.Later(cursor, await PersonAsync(pull, item, ct));
                }

                // The page is applied (each record committed or counted as failed): the cursor may move past it.
                await SaveCursorAsync(source.Id, since, cursor, ct);
            }
        }

        if (compiled.Deletions is { } deletions)
        {
            await foreach (var page in reader.ReadAsync(compiled, source.Id, pull.Secret, deletions, since, ct))
            {
                foreach (var item in page.Items)
                {
                    cursor = Cursors.Later(cursor, await LeaverAsync(pull, item, ct));
                }

                await SaveCursorAsync(source.Id, since, cursor, ct);
            }
        }
    }

    /// <summary>Reconciliation and dry run: everything read before anything is applied, so a read that fails never marks anyone as left.</summary>
    private async Task FullAsync(Pull pull, CancellationToken ct)
    {
        var (source, compiled) = (pull.Source, pull.Compiled);
        pull.Report = new SourceRunReport();
        var departments = await ReadAllAsync(pull, compiled.Departments, cursor: null, ct);
        var people = await ReadAllAsync(pull, compiled.People, cursor: null, ct);
        var dryRun = pull.Kind == InboundRunKind.DryRun;
        // The dry run applies inside one transaction rolled back at the end (as CsvImport does): its report is what a commit would do.
        await using var transaction = dryRun ? await db.Database.BeginTransactionAsync(ct) : null;
        await DepartmentsAsync(pull, departments, ct);
        string? cursor = null;
        foreach (var item in people)
        {
            cursor = Cursors.Later(cursor, await PersonAsync(pull, item, ct));
        }

        // A person whose record could not be read may still be there: nobody is marked as left on a read with holes.
        var ofSource = pull.Unread > 0 ? [] : await db.Users.AsNoTracking().Where(u => u.SourceId == source.Id && u.Status != UserStatus.Left)
            .Select(u => new { u.Id, u.UserName, u.ExternalId }).ToListAsync(ct);
        if (pull.Unread > 0)
        {
            pull.Run.Errors = InboundRuns.AppendError(pull.Run.Errors,
                $"{pull.Unread} people of the source could not be read; nobody was marked as left in this run.");
        }

        foreach (var missing in ofSource.Where(u => !pull.Seen.Contains(u.Id)))
        {
            await OneRecordAsync(pull, $"person {missing.ExternalId ?? missing.UserName}", async () =>
            {
                var result = await intake.MarkLeftAsync(source, missing.Id, ct);
                InboundRuns.Count(pull.Run, IntakeTally.Of(result.Outcome));
                pull.Report.Left(missing.Id, missing.UserName, missing.ExternalId);
            }, ct);
        }

        if (transaction is not null)
        {
            await transaction.RollbackAsync(ct);
            db.ChangeTracker.Clear();
        }
        else
        {
            await SaveCursorAsync(source.Id, source.Cursor, Cursors.Later(source.Cursor, cursor), ct);
        }
    }

    private async Task<List<object?>> ReadAllAsync(Pull pull, RestSourceCompiledList? list, string? cursor, CancellationToken ct)
    {
        var all = new List<object?>();
        if (list is not null)
        {
            await foreach (var page in reader.ReadAsync(pull.Compiled, pull.Source.Id, pull.Secret, list, cursor, ct))
            {
                all.AddRange(page.Items);
            }
        }

        return all;
    }

    /// <summary>The departments, parents before their children whatever order the source lists them in.</summary>
    private async Task DepartmentsAsync(Pull pull, List<object?> items, CancellationToken ct)
    {
        if (pull.Compiled.Departments is not { } list)
        {
            return;
        }

        var mapped = new List<(IReadOnlyDictionary<string, string?>? Values, string Label, Exception? Error)>();
        foreach (var item in items)
        {
            try
            {
                var values = pull.Compiled.Map(list, item);
                mapped.Add((values, $"department {values.GetValueOrDefault("externalId") ?? values.GetValueOrDefault("code") ?? values.GetValueOrDefault("name")}", null));
            }
            catch (RestTemplateException ex)
            {
                mapped.Add((null, "department", ex));
            }
        }

        foreach (var (values, label, error) in ParentsFirst(mapped))
        {
            if (values is null)
            {
                Fail(pull, label, error!);
                continue;
            }

            var department = new SourceDepartment(values.GetValueOrDefault("externalId"), values.GetValueOrDefault("name"), values.GetValueOrDefault("parentRef"), values.GetValueOrDefault("code"));
            await OneRecordAsync(pull, label, async () =>
            {
                var before = await intake.FindDepartmentAsync(pull.Source, department, ct);
                var result = await intake.ApplyDepartmentAsync(pull.Source, department, null, ct);
                InboundRuns.Count(pull.Run, IntakeTally.Of(result.Outcome));
                if (pull.Report is { } report && result.Outcome is IntakeOutcome.Created or IntakeOutcome.Updated)
                {
                    var after = result.Value;
                    List<SourceRunReport.Change> changes = [];
                    if (before is not null)
                    {
                        foreach (var (attribute, ours, theirs) in new[] { ("name", before.Name, after.Name), ("code", before.Code, after.Code),
                            ("parent", await DepartmentNameAsync(before.ParentId, pull, ct), await DepartmentNameAsync(after.ParentId, pull, ct)) })
                        {
                            if (!string.Equals(ours, theirs, StringComparison.Ordinal))
                            {
                                changes.Add(new(attribute, ours, theirs));
                            }
                        }
                    }

                    report.Department(result.Outcome, after.Id, after.Name, department.ExternalId, changes);
                }
            }, ct);
        }
    }

    private static IEnumerable<(IReadOnlyDictionary<string, string?>? Values, string Label, Exception? Error)> ParentsFirst(
        List<(IReadOnlyDictionary<string, string?>? Values, string Label, Exception? Error)> items)
    {
        var pending = items.ToList();
        while (pending.Count > 0)
        {
            var ready = pending.Where(p => p.Values?.GetValueOrDefault("parentRef") is not { } parent
                || !pending.Any(q => !ReferenceEquals(q.Values, p.Values) && q.Values is not null && IsOwnKey(q.Values, parent))).ToList();
            if (ready.Count == 0)
            {
                // A cycle: the directory refuses it record by record.
                ready = pending;
            }

            foreach (var item in ready)
            {
                yield return item;
            }

            pending = [.. pending.Except(ready)];
        }
    }

    private static bool IsOwnKey(IReadOnlyDictionary<string, string?> values, string key) =>
        values.GetValueOrDefault("externalId") == key || values.GetValueOrDefault("code") == key;

    /// <summary>One person from the source; returns the item's cursor value.</summary>
    private async Task<string?> PersonAsync(Pull pull, object? item, CancellationToken ct)
    {
        IReadOnlyDictionary<string, string?> values;
        try
        {
            values = pull.Compiled.Map(pull.Compiled.People!, item);
        }
        catch (RestTemplateException ex)
        {
            Fail(pull, "person", ex);
            pull.Unread++;
            return null;
        }

        var label = $"person {values.GetValueOrDefault("externalId") ?? values.GetValueOrDefault("employeeNumber") ?? values.GetValueOrDefault("userName")}";
        var active = values.GetValueOrDefault("active");
        if (active is not null && Cursors.Flag(active) is null)
        {
            Fail(pull, label, new RuleViolation($"active renders \"{active}\"; it must be true or false."));
            pull.Unread++;
            return values.GetValueOrDefault(RestSourceCompiled.CursorKey);
        }

        var person = new SourcePerson(
            values.GetValueOrDefault("externalId"), values.GetValueOrDefault("employeeNumber"), values.GetValueOrDefault("userName"),
            values.GetValueOrDefault("displayName"), values.GetValueOrDefault("email"), values.GetValueOrDefault("phoneNumber"),
            values.GetValueOrDefault("departmentRef"), values.GetValueOrDefault("managerRef"), Cursors.Flag(active) ?? true);
        await OneRecordAsync(pull, label, async () =>
        {
            var existing = await intake.FindPersonAsync(pull.Source, person, ct);
            var before = existing is null ? null : UserSnapshot.Of(existing);
            if (existing is not null)
            {
                // In the source's full read: never marked as left by it, even when this record is refused.
                pull.Seen.Add(existing.Id);
            }

            var result = await intake.ApplyPersonAsync(pull.Source, person, null, ct);
            pull.Seen.Add(result.Value.Id);
            InboundRuns.Count(pull.Run, IntakeTally.Of(result.Outcome));
            if (pull.Report is not { } report || result.Outcome is IntakeOutcome.Unchanged)
            {
                return;
            }

            var after = UserSnapshot.Of(await db.Users.AsNoTracking().SingleAsync(u => u.Id == result.Value.Id, ct));
            if (before is null)
            {
                report.Created(after.Id, after.UserName, person.ExternalId, after.EmployeeNumber, after.DisplayName);
                return;
            }

            var changes = new List<SourceRunReport.Change>();
            foreach (var (attribute, ours, theirs) in AttributeOwnership.Differences(before, after))
            {
                changes.Add(new(attribute, await NameOfAsync(attribute, ours, pull, ct), await NameOfAsync(attribute, theirs, pull, ct)));
            }

            report.Updated(after.Id, after.UserName, person.ExternalId, changes);
            // Owned attributes IdentityHub held otherwise: the drift the increments missed (or a local change), listed as conflicts.
            var owned = SourceAttributes.Parse(pull.Source.OwnedAttributes);
            var drift = changes.Where(c => owned.Contains(c.Attribute)).ToList();
            if (drift.Count > 0)
            {
                var now = Revision.Now(clock);
                db.InboundConflicts.AddRange(drift.Select(c => new InboundConflict
                {
                    SourceId = pull.Source.Id,
                    UserId = after.Id,
                    Attribute = c.Attribute,
                    LocalValue = Cut(c.Ours),
                    SourceValue = Cut(c.Theirs),
                    Resolution = "drift",
                    OccurredAt = now,
                }));
                await db.SaveChangesAsync(ct);
                pull.Run.Conflicts += drift.Count;
                report.Conflicts(after.Id, after.UserName, drift);
            }
        }, ct);
        return values.GetValueOrDefault(RestSourceCompiled.CursorKey);
    }

    /// <summary>One person the source says has left; returns the item's cursor value.</summary>
    private async Task<string?> LeaverAsync(Pull pull, object? item, CancellationToken ct)
    {
        IReadOnlyDictionary<string, string?> values;
        try
        {
            values = pull.Compiled.Map(pull.Compiled.Deletions!, item);
        }
        catch (RestTemplateException ex)
        {
            Fail(pull, "deletion", ex);
            return null;
        }

        var label = $"deletion {values.GetValueOrDefault("externalId") ?? values.GetValueOrDefault("employeeNumber")}";
        await OneRecordAsync(pull, label, async () =>
        {
            var person = new SourcePerson(values.GetValueOrDefault("externalId"), values.GetValueOrDefault("employeeNumber"), null, null, null, null, null, null);
            var existing = person.ExternalId is null && person.EmployeeNumber is null ? null : await intake.FindPersonAsync(pull.Source, person, ct);
            if (existing is null)
            {
                // Never came in (or came from elsewhere and was deleted there): nothing to end here.
                InboundRuns.Count(pull.Run, new IntakeTally(null, Skipped: true));
                return;
            }

            var result = await intake.MarkLeftAsync(pull.Source, existing.Id, ct);
            InboundRuns.Count(pull.Run, IntakeTally.Of(result.Outcome));
        }, ct);
        return values.GetValueOrDefault(RestSourceCompiled.CursorKey);
    }

    /// <summary>
    /// One record: committed by the intake in its own transaction, or (in a dry run) applied up to a savepoint of the
    /// run's transaction; a refusal undoes only this record, is counted as failed with its error, and the run goes on.
    /// </summary>
    private async Task OneRecordAsync(Pull pull, string label, Func<Task> work, CancellationToken ct)
    {
        const string Savepoint = "source_record";
        var transaction = db.Database.CurrentTransaction;
        if (transaction is not null)
        {
            await transaction.CreateSavepointAsync(Savepoint, ct);
        }

        try
        {
            await work();
            if (transaction is not null)
            {
                await transaction.ReleaseSavepointAsync(Savepoint, ct);
            }
        }
        catch (Exception ex) when (ex is RuleViolation or RestTemplateException or DbUpdateException)
        {
            if (transaction is not null)
            {
                await transaction.RollbackToSavepointAsync(Savepoint, ct);
            }

            Fail(pull, label, ex);
        }
        finally
        {
            // Thousands of records in one context would make every save re-scan all of them.
            db.ChangeTracker.Clear();
        }
    }

    private static void Fail(Pull pull, string label, Exception error)
    {
        var message = error switch
        {
            RuleViolation { Errors.Count: > 0 } violation => $"{violation.Title} {string.Join(" ", violation.Errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}",
            DbUpdateException => "Another change to the same record was saved at the same moment.",
            _ => error.Message,
        };
        InboundRuns.Count(pull.Run, IntakeTally.Failed($"{label}: {message}", conflict: false));
        pull.Report?.Failed(label, message);
    }

    private async Task SaveCursorAsync(Guid sourceId, string? previous, string? cursor, CancellationToken ct)
    {
        if (cursor is null || cursor == previous || db.Database.CurrentTransaction is not null)
        {
            return;
        }

        await db.InboundSources.Where(s => s.Id == sourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Cursor, Cut(cursor)), ct);
    }

    private async Task<string?> NameOfAsync(string attribute, string? value, Pull pull, CancellationToken ct) => attribute switch
    {
        SourceAttributes.Department when Guid.TryParse(value, out var id) => await DepartmentNameAsync(id, pull, ct),
        SourceAttributes.Manager when value is not null => await db.Users.AsNoTracking().Where(u => u.Id == value).Select(u => u.UserName).SingleOrDefaultAsync(ct) ?? value,
        _ => value,
    };

    private async Task<string?> DepartmentNameAsync(Guid? id, Pull pull, CancellationToken ct)
    {
        if (id is not { } key)
        {
            return null;
        }

        if (!pull.DepartmentNames.TryGetValue(key, out var name))
        {
            name = await db.Departments.AsNoTracking().Where(d => d.Id == key).Select(d => d.Name).SingleOrDefaultAsync(ct) ?? key.ToString();
            pull.DepartmentNames[key] = name;
        }

        return name;
    }

    private void EnsureSuperAdministrator()
    {
        if (!actor.Value.IsSuperAdmin)
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden, "Only super administrators run sources: a source writes the directory.", "inbound.superAdminOnly");
        }
    }

    private static string Shorten(string text) => text.Length > 2000 ? text[..2000] : text;

    private static string? Cut(string? text) => text is { Length: > 1000 } ? text[..1000] : text;

    /// <summary>What one run carries along: the source, its compiled settings and secret, the run's counts and report.</summary>
    private sealed class Pull(InboundSource source, RestSourceCompiled compiled, string? secret, InboundRun run, InboundRunKind kind)
    {
        public InboundSource Source { get; } = source;

        public RestSourceCompiled Compiled { get; } = compiled;

        public string? Secret { get; } = secret;

        public InboundRun Run { get; } = run;

        public InboundRunKind Kind { get; } = kind;

        public SourceRunReport? Report { get; set; }

        /// <summary>The people the full read named (matched or created): the others of the source have left.</summary>
        public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);

        public Dictionary<Guid, string> DepartmentNames { get; } = [];

        /// <summary>People records that could not be mapped (so not matched with anyone): the full read has holes.</summary>
        public int Unread { get; set; }
    }
}

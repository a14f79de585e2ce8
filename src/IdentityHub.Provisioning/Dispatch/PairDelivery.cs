using System.Diagnostics;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace IdentityHub.Provisioning.Dispatch;

/// <summary>
/// Delivers one claimed (connector, user): renews the claim and fixes the state's version under it, calls the connector
/// within the claim, then records the outcome (delete the rows, or schedule the retry, or dead-letter them) with an attempt row.
/// A success settles every row of the user whose change the state it sent already held, not only the claimed ones: rows
/// waiting out a backoff are folded into it instead of being sent again as a second, identical delivery.
/// </summary>
public sealed class PairDelivery(
    IdentityHubDbContext db, IOutboxLocking locking, UserStates states, OutboxClaims claims, ConnectorSecrets secrets, IEnumerable<IConnectorClient> clients,
    IOptions<ProvisioningOptions> options, ProvisioningMetrics metrics, TimeProvider clock, ILogger<PairDelivery> logger)
{
    private const int MaxErrorLength = 2000;

    /// <summary>What came of <see cref="DeliverAsync(ClaimedPair, CancellationToken)"/>: whether the connector was called, and the attempt's duration.</summary>
    public sealed record Result(bool Attempted, TimeSpan Duration);

    public async Task<Result> DeliverAsync(ClaimedPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        return (await DeliverAsync([pair], cancellationToken))[0];
    }

    /// <summary>
    /// Delivers a batch of one connector's claimed pairs, one user each, as <see cref="DeliverAsync(ClaimedPair, CancellationToken)"/>
    /// delivers one: every rule holds per pair (its own claim, version, call, outcome and attempt row), only the database
    /// work is shared: one read of the rows and states, one transaction fixing the versions, one recording the outcomes.
    /// The connector is called for one pair after another. Returns one result per pair, in order.
    /// </summary>
    public async Task<IReadOnlyList<Result>> DeliverAsync(IReadOnlyList<ClaimedPair> pairs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0)
        {
            return [];
        }

        if (pairs.Any(p => p.ConnectorId != pairs[0].ConnectorId) || pairs.DistinctBy(p => p.UserId, StringComparer.Ordinal).Count() != pairs.Count)
        {
            throw new ArgumentException("A batch holds pairs of one connector, one per user.", nameof(pairs));
        }

        var skipped = new Result(false, TimeSpan.Zero);
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == pairs[0].ConnectorId, cancellationToken);
        if (connector is null)
        {
            return [.. pairs.Select(_ => skipped)]; // Deleted meanwhile; its rows went with it.
        }

        if (connector.Paused)
        {
            foreach (var pair in pairs)
            {
                await claims.ReleaseAsync(pair, cancellationToken);
            }

            return [.. pairs.Select(_ => skipped)];
        }

        // The rows, then the states, from one snapshot: each row was committed together with its change, so the state holds
        // all of these; a row committed after the snapshot is not in the list and its change not in the state, so it
        // survives the delivery and goes out next as a version of its own: nothing is lost, nothing is sent twice.
        ILookup<string, long> covered;
        IReadOnlyDictionary<string, ProvisionedUser> built;
        await using (await locking.BeginSnapshotAsync(db, cancellationToken))
        {
            covered = await CoveredRowsAsync(pairs, cancellationToken);
            built = await states.BuildAsync(connector.ApplicationId, [.. pairs.Select(p => p.UserId)], cancellationToken);
        }

        var versions = await FixVersionsAsync(pairs, built, cancellationToken);
        var sent = new List<Sent>();
        foreach (var pair in pairs)
        {
            if (!versions.TryGetValue(pair, out var version))
            {
                logger.LogDebug("The claim on user {UserId} at connector {ConnectorId} lapsed before its delivery started; nothing was sent.", pair.UserId, pair.ConnectorId);
                continue;
            }

            var started = Stopwatch.GetTimestamp();
            var (outcome, cutShort) = await CallWithinClaimAsync(connector, version, cancellationToken);
            sent.Add(new Sent(pair, [.. covered[pair.UserId]], version, outcome, Stopwatch.GetElapsedTime(started), cutShort ? version.ClaimedUntil : null));
        }

        await RecordAsync(connector, sent, cancellationToken);
        // Nothing sent: no call whose duration says anything about the target's pace.
        var results = sent.ToDictionary(d => d.Pair, d => d.Outcome is DeliveryOutcome.NothingToSend ? skipped : new Result(true, d.Duration));
        return [.. pairs.Select(p => results.GetValueOrDefault(p, skipped))];
    }

    /// <summary>
    /// The pairs' pending rows whose change is in effect now, per user: due ones (claimed or committed since the claim) and
    /// ones waiting out a backoff (they were due when they failed). A row scheduled for later (an assignment that starts
    /// tomorrow, a report waiting for their manager to go first) is not, and keeps its own delivery.
    /// </summary>
    private async Task<ILookup<string, long>> CoveredRowsAsync(IReadOnlyList<ClaimedPair> pairs, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var connectorId = pairs[0].ConnectorId;
        var users = pairs.Select(p => p.UserId).ToList();
        var rows = await db.Outbox.AsNoTracking()
            .Where(o => o.ConnectorId == connectorId && users.Contains(o.UserId) && o.Status == OutboxStatus.Pending && (o.DueAt <= now || o.Attempts > 0))
            .Select(o => new { o.Id, o.UserId })
            .ToListAsync(cancellationToken);
        return rows.ToLookup(r => r.UserId, r => r.Id, StringComparer.Ordinal);
    }

    /// <summary>The state with its version, the user's record as saved, what the connector is told (the last version, this one's event), and the renewed claim's end.</summary>
    private sealed record VersionedState(ProvisionedUser State, ConnectorUserState Known, ConnectorUserState Previous, DateTimeOffset ClaimedUntil);

    /// <summary>One pair's call and what came of it, to be recorded.</summary>
    private sealed record Sent(ClaimedPair Pair, List<long> Covered, VersionedState Version, DeliveryOutcome Outcome, TimeSpan Duration, DateTimeOffset? HoldUntil);

    /// <summary>
    /// Renews the claims and assigns the versions in one transaction: a version is saved BEFORE sending (after a crash the
    /// next delivery never reuses it for another state), and only while its claim holds; a second writer that read the same
    /// version fails on the concurrency token instead of naming a different state with it. A pair whose claim is lost is
    /// left out. When the batch's save fails, each pair is tried alone, so one pair another writer owns stands down alone.
    /// </summary>
    private async Task<Dictionary<ClaimedPair, VersionedState>> FixVersionsAsync(
        IReadOnlyList<ClaimedPair> pairs, IReadOnlyDictionary<string, ProvisionedUser> built, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var fixedVersions = new Dictionary<ClaimedPair, VersionedState>();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var (renewed, until) = await claims.RenewAsync(pairs, settings.ClaimTimeout, cancellationToken);
            if (renewed.Count == 0)
            {
                return fixedVersions;
            }

            var connectorId = pairs[0].ConnectorId;
            var users = renewed.Select(p => p.UserId).ToList();
            var known = await db.ConnectorUserStates.Where(s => s.ConnectorId == connectorId && users.Contains(s.UserId))
                .ToDictionaryAsync(s => s.UserId, StringComparer.Ordinal, cancellationToken);
            foreach (var pair in renewed)
            {
                if (!known.TryGetValue(pair.UserId, out var state))
                {
                    state = new ConnectorUserState { ConnectorId = pair.ConnectorId, UserId = pair.UserId };
                    db.ConnectorUserStates.Add(state);
                }

                fixedVersions[pair] = Assign(state, built[pair.UserId], until);
            }

            try
            {
                // The transaction is all or nothing already; a savepoint would only cost two more round trips per batch.
                db.Database.AutoSavepointsEnabled = false;
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return fixedVersions;
            }
            catch (DbUpdateException ex)
            {
                // Each alone renews its claim again: a pair whose claim another writer took now stands down, as one alone would.
                logger.LogDebug(ex, "Fixing the versions of {Count} users at connector {ConnectorId} together failed; each is tried alone.", pairs.Count, connectorId);
                db.ChangeTracker.Clear();
            }
        }

        fixedVersions.Clear();
        foreach (var pair in pairs)
        {
            if (await FixVersionAsync(pair, built[pair.UserId], cancellationToken) is { } version)
            {
                fixedVersions[pair] = version;
            }
        }

        return fixedVersions;
    }

    /// <summary>One pair's <see cref="FixVersionsAsync"/>: null when its claim is lost or another sender fixed a version first.</summary>
    private async Task<VersionedState?> FixVersionAsync(ClaimedPair pair, ProvisionedUser state, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await claims.RenewAsync(pair, settings.ClaimTimeout, cancellationToken) is not { } until)
        {
            return null;
        }

        var known = await db.ConnectorUserStates.SingleOrDefaultAsync(s => s.ConnectorId == pair.ConnectorId && s.UserId == pair.UserId, cancellationToken);
        if (known is null)
        {
            known = new ConnectorUserState { ConnectorId = pair.ConnectorId, UserId = pair.UserId };
            db.ConnectorUserStates.Add(known);
        }

        var version = Assign(known, state, until);
        try
        {
            db.Database.AutoSavepointsEnabled = false;
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            // DbUpdateConcurrencyException, or the first state row inserted by another writer: that writer owns this round.
            logger.LogWarning(ex, "Another sender fixed a version for user {UserId} at connector {ConnectorId} first; this delivery stands down.", pair.UserId, pair.ConnectorId);
            db.ChangeTracker.Clear();
            return null;
        }

        await transaction.CommitAsync(cancellationToken);
        return version;
    }

    /// <summary>Assigns the state's version in <paramref name="known"/>; the connector sees the version before this one and what this one is (SentState: its event).</summary>
    private static VersionedState Assign(ConnectorUserState known, ProvisionedUser state, DateTimeOffset claimedUntil)
    {
        var lastVersion = known.Version;
        state = StateVersions.Assign(known, state);
        var previous = new ConnectorUserState
        {
            ConnectorId = known.ConnectorId, UserId = known.UserId, Version = lastVersion, ExternalId = known.ExternalId,
            LastDeliveredAt = known.LastDeliveredAt, SentState = known.SentState, DeliveredState = known.DeliveredState,
        };
        return new VersionedState(state, known, previous, claimedUntil);
    }

    /// <summary>
    /// Calls the connector with a deadline <see cref="ProvisioningOptions.ClaimMargin"/> before the claim ends, so no
    /// call of this delivery is still running when another node may claim the user; a delivery cut short is a retry.
    /// </summary>
    private async Task<(DeliveryOutcome Outcome, bool CutShort)> CallWithinClaimAsync(Connector connector, VersionedState version, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var window = version.ClaimedUntil - settings.ClaimMargin - clock.GetUtcNow();
        using var deadline = new CancellationTokenSource(window > TimeSpan.Zero ? window : TimeSpan.Zero, clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return (await CallConnectorAsync(connector, version.State, version.Previous, linked.Token), false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (new DeliveryOutcome.Retry(
                $"The delivery did not finish within its claim ({settings.ClaimTimeout.TotalSeconds:0.#} s Provisioning:ClaimTimeout less {settings.ClaimMargin.TotalSeconds:0.#} s kept to record it); cut short."), true);
        }
    }

    private async Task<DeliveryOutcome> CallConnectorAsync(Connector connector, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        var client = clients.FirstOrDefault(c => c.Kind == connector.Kind);
        if (client is null)
        {
            return new DeliveryOutcome.Retry($"No {connector.Kind} connector client is installed on this node.");
        }

        try
        {
            return await client.DeliverAsync(connector, secrets.Unprotect(connector.ProtectedSecret), state, known, cancellationToken);
        }
        catch (TimeoutRejectedException)
        {
            return new DeliveryOutcome.Retry($"No answer within {options.Value.AttemptTimeout.TotalSeconds:0.#} s (Provisioning:AttemptTimeout).");
        }
        catch (HttpRequestException ex)
        {
            // Refused connection, DNS failure, reset: the target may come back.
            return new DeliveryOutcome.Retry(ex.HttpRequestError + ": " + ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryOutcome.Retry("The request timed out.");
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return new DeliveryOutcome.Permanent("The connector's secret cannot be unprotected (Data Protection keys changed); set the secret again.");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A connector bug or an odd answer: recorded and retried with backoff like any failure, never lost.
            return new DeliveryOutcome.Retry($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    /// <summary>
    /// Records the outcomes of a batch's calls in one save: per pair, the rows are deleted, or scheduled for the retry, or
    /// dead-lettered, with an attempt row. When the batch's save fails (a row or state another writer changed meanwhile),
    /// each pair is recorded alone, so only the pair concerned is left to its claim's lapse.
    /// </summary>
    private async Task RecordAsync(Connector connector, List<Sent> sent, CancellationToken cancellationToken)
    {
        if (sent.Count == 0)
        {
            return;
        }

        var connectorId = connector.Id;
        var users = sent.Select(d => d.Pair.UserId).ToList();
        var tokens = sent.Select(d => d.Pair.ClaimToken).Distinct().ToList();
        var covered = sent.SelectMany(d => d.Covered).ToList();
        // The claimed rows, and what a success makes obsolete: the pairs' dead letters and the rows the sent states covered (one query).
        var rows = await db.Outbox
            .Where(o => o.ConnectorId == connectorId && users.Contains(o.UserId)
                && (tokens.Contains(o.ClaimedBy!) || o.Status == OutboxStatus.Dead || covered.Contains(o.Id)))
            .ToListAsync(cancellationToken);
        var recorded = sent.Select(d => Apply(connector, d, [.. rows.Where(o => o.UserId == d.Pair.UserId
            && (o.ClaimedBy == d.Pair.ClaimToken || o.Status == OutboxStatus.Dead || d.Covered.Contains(o.Id)))])).ToList();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (sent.Count > 1)
        {
            logger.LogDebug(ex, "Recording {Count} deliveries to connector {ConnectorId} together failed; each is recorded alone.", sent.Count, connectorId);
            db.ChangeTracker.Clear();
            foreach (var one in sent)
            {
                await RecordAloneAsync(connector, one, cancellationToken);
            }

            return;
        }

        foreach (var done in recorded)
        {
            done();
        }
    }

    /// <summary>
    /// One pair's outcome after its batch's save failed: its state record is read again and must still be the version this
    /// delivery fixed (else another writer owns the pair now, and its rows come back when the claim lapses).
    /// </summary>
    private async Task RecordAloneAsync(Connector connector, Sent sent, CancellationToken cancellationToken)
    {
        try
        {
            var known = await db.ConnectorUserStates.SingleOrDefaultAsync(s => s.ConnectorId == sent.Pair.ConnectorId && s.UserId == sent.Pair.UserId, cancellationToken);
            if (known is null || known.Version != sent.Version.Known.Version)
            {
                logger.LogWarning("Another sender fixed a version for user {UserId} at connector {ConnectorId} during this delivery; its outcome is not recorded.", sent.Pair.UserId, sent.Pair.ConnectorId);
                return;
            }

            await RecordAsync(connector, [sent with { Version = sent.Version with { Known = known } }], cancellationToken);
        }
        catch (DbUpdateException ex)
        {
            // As a delivery that failed unexpectedly: its rows come back when the claim lapses.
            logger.LogError(ex, "Recording the delivery of user {UserId} to connector {ConnectorId} failed.", sent.Pair.UserId, sent.Pair.ConnectorId);
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// Applies one pair's outcome to its rows (<paramref name="pairRows"/>: claimed ones, its dead letters, the ones the sent
    /// state covered) and its state record, and adds its attempt row; returns what to do once saved (metrics, the log).
    /// A cut-short delivery's retry waits at least until the claim would have ended, so a target still busy with the
    /// abandoned call never sees the next one overlap it.
    /// </summary>
    private Action Apply(Connector connector, Sent sent, List<OutboxEntry> pairRows)
    {
        var (pair, known, version, outcome, duration, holdUntil) = (sent.Pair, sent.Version.Known, sent.Version.State.Version, sent.Outcome, sent.Duration, sent.HoldUntil);
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var rows = pairRows.Where(o => o.ClaimedBy == pair.ClaimToken).ToList();
        var attempt = new DeliveryAttempt
        {
            ConnectorId = pair.ConnectorId,
            UserId = pair.UserId,
            Version = version,
            At = now,
            DurationMilliseconds = (int)Math.Min(int.MaxValue, duration.TotalMilliseconds),
        };
        string metric;
        switch (outcome)
        {
            case DeliveryOutcome.Delivered delivered:
                // The state just delivered holds every change of these rows, so they go, the pair's dead letters too: the
                // failed and dead counts tell the truth, and no row waiting out a backoff sends the same state again.
                db.Outbox.RemoveRange(pairRows);
                known.ExternalId = delivered.Removed ? null : delivered.ExternalId ?? known.ExternalId;
                known.LastDeliveredAt = now;
                StateVersions.Delivered(known);
                attempt.Succeeded = true;
                metric = "delivered";
                break;
            case DeliveryOutcome.NothingToSend nothing:
                // Settled like a delivery (the target is as it should be), but recorded as what it was: no call.
                db.Outbox.RemoveRange(pairRows);
                StateVersions.Delivered(known);
                attempt.NothingSent = true;
                attempt.Error = Truncate(nothing.Reason);
                metric = "nothing";
                break;
            case DeliveryOutcome.Retry retry:
                attempt.StatusCode = retry.StatusCode;
                attempt.Error = Truncate(retry.Error);
                var attempts = rows.Count == 0 ? 1 : rows.Max(r => r.Attempts) + 1;
                var dead = attempts >= settings.MaxAttempts;
                var due = now + Backoff.Next(attempts, retry.RetryAfter ?? TimeSpan.Zero, settings.BackoffBase, settings.BackoffCap, Random.Shared);
                if (holdUntil is { } held && held > due)
                {
                    due = held;
                }

                foreach (var row in rows)
                {
                    Fail(row, attempt.Error, dead);
                    row.DueAt = due;
                }

                metric = dead ? "dead" : "retry";
                break;
            case DeliveryOutcome.Permanent permanent:
                attempt.StatusCode = permanent.StatusCode;
                attempt.Error = Truncate(permanent.Error);
                foreach (var row in rows)
                {
                    Fail(row, attempt.Error, dead: true);
                }

                metric = "dead";
                break;
            case DeliveryOutcome.Stale stale:
                // The target already holds a newer version: these rows are done, and the history says why nothing was applied.
                db.Outbox.RemoveRange(rows);
                attempt.StatusCode = stale.StatusCode;
                attempt.Error = Truncate(DeliveryOutcome.Stale.HistoryPrefix + stale.Note);
                metric = "stale";
                break;
            default:
                throw new InvalidOperationException($"Unknown delivery outcome {outcome.GetType().Name}.");
        }

        db.DeliveryAttempts.Add(attempt);
        return () => Recorded(connector, pair, attempt, metric, duration, now, pairRows);
    }

    private void Recorded(Connector connector, ClaimedPair pair, DeliveryAttempt attempt, string metric, TimeSpan duration, DateTimeOffset now, List<OutboxEntry> pairRows)
    {
        if (metric == "nothing")
        {
            return;
        }

        var kind = connector.Kind.ToString();
        metrics.RecordDelivery(connector.Name, kind, metric, duration);
        var carried = pairRows.Where(o => o.Status == OutboxStatus.Pending).ToList();
        if (metric == "delivered" && carried.Count > 0)
        {
            // Commit to delivered: from the oldest change this delivery carried (coalesced and folded rows included), retries and queueing counted.
            metrics.RecordChangeLatency(connector.Name, kind, now - carried.Min(r => r.CreatedAt));
        }

        if (metric != "delivered")
        {
            logger.LogWarning("Delivery of user {UserId} to connector {ConnectorId} failed ({Outcome}): {Error}", pair.UserId, pair.ConnectorId, metric, attempt.Error);
        }
    }

    private static void Fail(OutboxEntry row, string? error, bool dead)
    {
        row.Attempts++;
        row.LastError = error;
        row.ClaimedBy = null;
        row.ClaimedUntil = null;
        if (dead)
        {
            row.Status = OutboxStatus.Dead;
        }
    }

    private static string Truncate(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];
}

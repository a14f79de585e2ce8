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

    /// <summary>What came of <see cref="DeliverAsync"/>: whether the connector was called, and the attempt's duration.</summary>
    public sealed record Result(bool Attempted, TimeSpan Duration);

    public async Task<Result> DeliverAsync(ClaimedPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == pair.ConnectorId, cancellationToken);
        if (connector is null)
        {
            return new Result(false, TimeSpan.Zero); // Deleted meanwhile; its rows went with it.
        }

        if (connector.Paused)
        {
            await claims.ReleaseAsync(pair, cancellationToken);
            return new Result(false, TimeSpan.Zero);
        }

        // The rows, then the state, from one snapshot: each row was committed together with its change, so the state holds
        // all of these; a row committed after the snapshot is not in the list and its change not in the state, so it
        // survives the delivery and goes out next as a version of its own: nothing is lost, nothing is sent twice.
        List<long> covered;
        ProvisionedUser state;
        await using (await locking.BeginSnapshotAsync(db, cancellationToken))
        {
            covered = await CoveredRowsAsync(pair, cancellationToken);
            state = await states.BuildAsync(connector.ApplicationId, pair.UserId, cancellationToken);
        }

        var fixedVersion = await FixVersionAsync(pair, state, cancellationToken);
        if (fixedVersion is not { } version)
        {
            logger.LogDebug("The claim on user {UserId} at connector {ConnectorId} lapsed before its delivery started; nothing was sent.", pair.UserId, pair.ConnectorId);
            return new Result(false, TimeSpan.Zero);
        }

        var started = Stopwatch.GetTimestamp();
        var (outcome, cutShort) = await CallWithinClaimAsync(connector, version, cancellationToken);
        var duration = Stopwatch.GetElapsedTime(started);
        await RecordAsync(connector, pair, covered, version.Known, version.State.Version, outcome, duration, cutShort ? version.ClaimedUntil : null, cancellationToken);
        // Nothing sent: no call whose duration says anything about the target's pace.
        return outcome is DeliveryOutcome.NothingToSend ? new Result(false, TimeSpan.Zero) : new Result(true, duration);
    }

    /// <summary>
    /// The user's pending rows at this connector whose change is in effect now: due ones (claimed or committed since the
    /// claim) and ones waiting out a backoff (they were due when they failed). A row scheduled for later (an assignment
    /// that starts tomorrow, a report waiting for their manager to go first) is not, and keeps its own delivery.
    /// </summary>
    private async Task<List<long>> CoveredRowsAsync(ClaimedPair pair, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        return await db.Outbox.AsNoTracking()
            .Where(o => o.ConnectorId == pair.ConnectorId && o.UserId == pair.UserId && o.Status == OutboxStatus.Pending && (o.DueAt <= now || o.Attempts > 0))
            .Select(o => o.Id)
            .ToListAsync(cancellationToken);
    }

    /// <summary>The state with its version, the user's record as saved, what the connector is told (the last version, this one's event), and the renewed claim's end.</summary>
    private sealed record VersionedState(ProvisionedUser State, ConnectorUserState Known, ConnectorUserState Previous, DateTimeOffset ClaimedUntil);

    /// <summary>
    /// Renews the claim and assigns the version in one transaction: the version is saved BEFORE sending (after a crash the
    /// next delivery never reuses it for another state), and only while this claim holds; a second writer that read the same
    /// version fails on the concurrency token instead of naming a different state with it. Null: the claim is lost.
    /// </summary>
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

        var lastVersion = known.Version;
        state = StateVersions.Assign(known, state);
        // The connector sees the version before this one and what this one is (SentState: its event).
        var previous = new ConnectorUserState
        {
            ConnectorId = known.ConnectorId, UserId = known.UserId, Version = lastVersion, ExternalId = known.ExternalId,
            LastDeliveredAt = known.LastDeliveredAt, SentState = known.SentState, DeliveredState = known.DeliveredState,
        };
        try
        {
            // The transaction is all or nothing already; a savepoint would only cost two more round trips per delivery.
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
        return new VersionedState(state, known, previous, until);
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

    /// <param name="covered">The pair's rows whose change the delivered state held (<see cref="CoveredRowsAsync"/>): a success settles them too.</param>
    /// <param name="holdUntil">Set when the delivery was cut short at its claim's deadline: the retry waits at least until
    /// the claim would have ended, so a target still busy with the abandoned call never sees the next one overlap it.</param>
    private async Task RecordAsync(
        Connector connector, ClaimedPair pair, List<long> covered, ConnectorUserState known, long version, DeliveryOutcome outcome, TimeSpan duration,
        DateTimeOffset? holdUntil, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        // The claimed rows, and what a success makes obsolete: the pair's dead letters and the rows the sent state covered (one query).
        var pairRows = await db.Outbox
            .Where(o => o.ConnectorId == pair.ConnectorId && o.UserId == pair.UserId
                && (o.ClaimedBy == pair.ClaimToken || o.Status == OutboxStatus.Dead || covered.Contains(o.Id)))
            .ToListAsync(cancellationToken);
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
        await db.SaveChangesAsync(cancellationToken);
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

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
/// Delivers one claimed (connector, user): builds the user's state now, fixes its version before sending, calls the
/// connector, then records the outcome (delete the rows, or schedule the retry, or dead-letter them) with an attempt row.
/// </summary>
public sealed class PairDelivery(
    IdentityHubDbContext db, UserStates states, OutboxClaims claims, ConnectorSecrets secrets, IEnumerable<IConnectorClient> clients,
    IOptions<ProvisioningOptions> options, ProvisioningMetrics metrics, TimeProvider clock, ILogger<PairDelivery> logger)
{
    private const int MaxErrorLength = 2000;

    public async Task DeliverAsync(ClaimedPair pair, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var settings = options.Value;
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == pair.ConnectorId, cancellationToken);
        if (connector is null)
        {
            return; // Deleted meanwhile; its rows went with it.
        }

        // A paused connector keeps its rows; a claim about to lapse is given back rather than risk two senders.
        if (connector.Paused || clock.GetUtcNow() + settings.AttemptTimeout >= pair.ClaimedUntil)
        {
            await claims.ReleaseAsync(pair, cancellationToken);
            return;
        }

        var state = await states.BuildAsync(connector.ApplicationId, pair.UserId, cancellationToken);
        var known = await db.ConnectorUserStates.SingleOrDefaultAsync(s => s.ConnectorId == pair.ConnectorId && s.UserId == pair.UserId, cancellationToken);
        if (known is null)
        {
            known = new ConnectorUserState { ConnectorId = pair.ConnectorId, UserId = pair.UserId };
            db.ConnectorUserStates.Add(known);
        }

        var lastVersion = known.Version;
        state = StateVersions.Assign(known, state);
        // Saved before sending: after a crash the next delivery never reuses this version for another state.
        await db.SaveChangesAsync(cancellationToken);

        var started = Stopwatch.GetTimestamp();
        // The connector sees the version before this one and what this one is (SentState: its event).
        var outcome = await CallConnectorAsync(connector, state, new ConnectorUserState
        {
            ConnectorId = known.ConnectorId, UserId = known.UserId, Version = lastVersion, ExternalId = known.ExternalId,
            LastDeliveredAt = known.LastDeliveredAt, SentState = known.SentState,
        }, cancellationToken);
        var duration = Stopwatch.GetElapsedTime(started);
        await RecordAsync(connector, pair, known, state.Version, outcome, duration, cancellationToken);
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

    private async Task RecordAsync(Connector connector, ClaimedPair pair, ConnectorUserState known, long version, DeliveryOutcome outcome, TimeSpan duration, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = clock.GetUtcNow();
        var rows = await db.Outbox.Where(o => o.ClaimedBy == pair.ClaimToken && o.ConnectorId == pair.ConnectorId && o.UserId == pair.UserId).ToListAsync(cancellationToken);
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
                db.Outbox.RemoveRange(rows);
                known.ExternalId = delivered.ExternalId ?? known.ExternalId;
                known.LastDeliveredAt = now;
                attempt.Succeeded = true;
                metric = "delivered";
                break;
            case DeliveryOutcome.Retry retry:
                attempt.StatusCode = retry.StatusCode;
                attempt.Error = Truncate(retry.Error);
                var attempts = rows.Count == 0 ? 1 : rows.Max(r => r.Attempts) + 1;
                var dead = attempts >= settings.MaxAttempts;
                var wait = Backoff.Next(attempts, retry.RetryAfter ?? TimeSpan.Zero, settings.BackoffBase, settings.BackoffCap, Random.Shared);
                foreach (var row in rows)
                {
                    Fail(row, attempt.Error, dead);
                    row.DueAt = now + wait;
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
            default:
                throw new InvalidOperationException($"Unknown delivery outcome {outcome.GetType().Name}.");
        }

        db.DeliveryAttempts.Add(attempt);
        await db.SaveChangesAsync(cancellationToken);
        metrics.RecordDelivery(connector.Kind.ToString(), metric, duration);
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

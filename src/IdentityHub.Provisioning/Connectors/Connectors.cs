using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.State;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>
/// A connector as an administrator sends it: <see cref="Kind"/> names a registered kind; <see cref="Secret"/> is write-only;
/// <see cref="Preset"/> (creation only) names one of the kind's presets, whose settings <see cref="Settings"/> are laid over.
/// </summary>
public sealed record ConnectorInput(string? Kind, string? Name, JsonElement Settings, string? Secret, string? Preset = null);

/// <summary>
/// A new connector, the secret IdentityHub generated for it (shown this once; null when the administrator supplied it),
/// and its initial sync (null when nobody in the application holds access yet).
/// </summary>
public sealed record ConnectorCreated(Connector Connector, string? GeneratedSecret, FullSyncProgress? InitialSync);

/// <summary>
/// The connectors of an application: create (from a kind's preset or not), change, delete, pause and resume, "test
/// connection", and the dry-run preview of a user's delivery. Every refusal is a <see cref="RuleViolation"/> thrown before
/// anything is written; every change is audited in its own transaction, never with the secret, which is stored protected
/// (<see cref="ConnectorSecrets"/>) and never returned. What differs per kind comes from the kind's registered parts
/// (<see cref="IConnectorKind"/>).
/// </summary>
public sealed class Connectors(
    IdentityHubDbContext db, ConnectorKinds kinds, IEnumerable<IConnectionTest> tests, IEnumerable<IConnectorPreview> previews, ConnectorSecrets secrets,
    UserStates states, FullSyncs fullSyncs, AuditTrail audit, OutboxSignal signal, TimeProvider clock)
{
    public const int NameMaxLength = 200;
    public const int SettingsMaxLength = 8000;
    public const int SecretMaxLength = 2000;

    /// <summary>
    /// Creates the connector and, in the same transaction, its initial sync: every user the application's connector
    /// hears of is queued, so people who held roles before the connector existed are provisioned too.
    /// </summary>
    public async Task<ConnectorCreated> CreateAsync(Guid applicationId, ConnectorInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            throw RuleViolation.NotFound("application", applicationId);
        }

        var errors = new FieldErrors();
        var kind = kinds.Find(input.Kind);
        if (kind is null)
        {
            errors.Add("kind", $"kind must be {kinds.Choices()}.");
        }
        else if (input.Preset is { } presetName)
        {
            if (kind.Presets.FirstOrDefault(p => p.Name == presetName.Trim()) is not { } preset)
            {
                // Without its preset the partial settings would fail on every field: the unknown preset is the one error to fix.
                throw RuleViolation.Field("preset", kind.Presets.Count == 0
                    ? $"A {kind.Name} connector has no presets; send its settings instead."
                    : $"No {kind.Name} preset named \"{presetName}\"; choose {string.Join(" or ", kind.Presets.Select(p => $"\"{p.Name}\""))}.");
            }

            // The preset's settings, with the given ones laid over them, are what is checked and stored.
            input = input with { Settings = preset.Apply(input.Settings) };
        }

        var settings = await CheckAsync(input, kind, applicationId, connectorId: null, hasStoredSecret: false, errors, cancellationToken);
        errors.ThrowIfAny();
        var generated = kind!.GenerateSecret();
        var secret = generated ?? input.Secret;
        var now = Revision.Now(clock);
        var connector = new Connector
        {
            Id = Guid.CreateVersion7(),
            ApplicationId = applicationId,
            Name = input.Name!.Trim(),
            Kind = kind.Kind,
            Settings = settings!,
            ProtectedSecret = secret is null ? null : secrets.Protect(secret),
            CreatedAt = now,
            UpdatedAt = now,
        };
        FullSyncProgress? initialSync = null;
        await SaveAsync(connector, async () =>
        {
            // Taken before the audience is read: a grant committing meanwhile is either seen by the initial sync or waits
            // for this commit and then queues its own row for the new connector.
            await audit.SerializeAsync(cancellationToken);
            db.Connectors.Add(connector);
            initialSync = await fullSyncs.QueueAsync(connector, always: false, cancellationToken);
            await audit.RecordAsync("connector.created", "connector", connector.Id.ToString(), null,
                Snapshot(connector) with { InitialSyncUsers = initialSync?.Total ?? 0 }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        signal.Notify();
        return new ConnectorCreated(connector, generated, initialSync);
    }

    /// <summary>Changes the name and settings; the secret is replaced only when sent (never for kinds that generate theirs).</summary>
    public async Task<Connector> UpdateAsync(Guid id, ConnectorInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var connector = await db.Connectors.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("connector", id);
        Revision.Check("connector", connector.UpdatedAt, expectedRevision);
        var errors = new FieldErrors();
        var kind = kinds.Find(connector.Kind);
        if (kind is null)
        {
            throw new RuleViolation(ViolationKind.Conflict, $"The {connector.Kind} connector kind is not installed on this node; the connector cannot be changed here.");
        }

        if (input.Kind is { } asked && !string.Equals(asked.Trim(), kind.Name, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("kind", "A connector's kind cannot change; create a new connector instead.");
        }

        if (input.Preset is not null)
        {
            errors.Add("preset", "A preset fills a new connector's settings; to change a connector, send its settings.");
        }

        var settings = await CheckAsync(input, kind, connector.ApplicationId, connector.Id, connector.ProtectedSecret is not null, errors, cancellationToken);
        errors.ThrowIfAny();
        var before = Snapshot(connector);
        connector.Name = input.Name!.Trim();
        connector.Settings = settings!;
        if (input.Secret is { } secret)
        {
            connector.ProtectedSecret = secrets.Protect(secret);
        }

        connector.UpdatedAt = Revision.After(connector.UpdatedAt, clock);
        await SaveAsync(connector, async () =>
        {
            await audit.RecordAsync("connector.updated", "connector", id.ToString(), before, Snapshot(connector), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return connector;
    }

    /// <summary>Deletes the connector with its queue, states and history (cascade).</summary>
    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("connector", id);
        Revision.Check("connector", connector.UpdatedAt, expectedRevision);
        await db.InTransactionAsync(async () =>
        {
            await db.Connectors.Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken);
            await audit.RecordAsync("connector.deleted", "connector", id.ToString(), Snapshot(connector), null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
    }

    /// <summary>Pauses (changes queue) or resumes (the queue flows again) the connector; asking for its current state changes nothing.</summary>
    public async Task<Connector> SetPausedAsync(Guid id, bool paused, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("connector", id);
        if (connector.Paused == paused)
        {
            return connector;
        }

        connector.Paused = paused;
        connector.UpdatedAt = Revision.After(connector.UpdatedAt, clock);
        await db.InTransactionAsync(async () =>
        {
            await audit.RecordAsync(paused ? "connector.paused" : "connector.resumed", "connector", id.ToString(), null, new { connector.Name }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        signal.Notify();
        return connector;
    }

    /// <summary>
    /// "Test connection": the kind authenticates to the target and reads something harmless, with the stored secret; nothing
    /// is written on either side. A kind with nothing to read (webhooks) says so.
    /// </summary>
    public async Task<ConnectionTestResult> TestAsync(Guid id, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("connector", id);
        if (tests.FirstOrDefault(t => t.Kind == connector.Kind) is not { } test)
        {
            return new ConnectionTestResult(ConnectionTestResult.NotAvailable,
                $"A {kinds.NameOf(connector.Kind)} connector has nothing to read back, so there is no call to test; deliveries show whether its target accepts them.", null, 0);
        }

        string? secret;
        try
        {
            secret = secrets.Unprotect(connector.ProtectedSecret);
        }
        catch (CryptographicException)
        {
            return new ConnectionTestResult(ConnectionTestResult.Failed, "The connector's secret cannot be unprotected (Data Protection keys changed); set the secret again.", null, 0);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            return await test.TestAsync(connector, secret, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Polly.Timeout.TimeoutRejectedException && !cancellationToken.IsCancellationRequested)
        {
            return new ConnectionTestResult(ConnectionTestResult.Failed, ConnectionTestResult.Unreachable, null, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    /// <summary>Whether connectors of <paramref name="kind"/> have a dry-run preview (<see cref="PreviewAsync"/>).</summary>
    public bool CanPreview(ConnectorKind kind) => previews.Any(p => p.Kind == kind);

    /// <summary>
    /// A dry run: the exact requests the next delivery of <paramref name="userId"/> would send now, with the version it would
    /// carry, for the kinds that can show them. Nothing is sent (no token fetched either) and nothing is saved.
    /// </summary>
    public async Task<ConnectorPreview> PreviewAsync(Guid id, string? userId, CancellationToken cancellationToken)
    {
        var connector = await db.Connectors.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("connector", id);
        if (previews.FirstOrDefault(p => p.Kind == connector.Kind) is not { } preview)
        {
            throw new RuleViolation(ViolationKind.Conflict, $"A {kinds.NameOf(connector.Kind)} connector has no preview of its requests; its delivery history shows what was sent.");
        }

        if (string.IsNullOrWhiteSpace(userId) || !await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            throw RuleViolation.Field("userId", "No user with this id.", ViolationKind.NotFound);
        }

        var state = await states.BuildAsync(connector.ApplicationId, userId, cancellationToken);
        var stored = await db.ConnectorUserStates.AsNoTracking().SingleOrDefaultAsync(s => s.ConnectorId == id && s.UserId == userId, cancellationToken);
        // A copy: the version is assigned as a delivery would, and never saved.
        var known = new ConnectorUserState
        {
            ConnectorId = id, UserId = userId, Version = stored?.Version ?? 0, ExternalId = stored?.ExternalId, LastDeliveredAt = stored?.LastDeliveredAt,
            SentState = stored?.SentState,
        };
        var lastVersion = known.Version;
        state = StateVersions.Assign(known, state);
        if (ProvisioningEvents.Of(known) == ProvisioningEvents.None)
        {
            return new ConnectorPreview(userId, state.Version, ConnectorPreview.NoAction, []);
        }

        // What a delivery hands the connector: the version before this one, and this one's event (see PairDelivery).
        var previous = new ConnectorUserState
        {
            ConnectorId = id, UserId = userId, Version = lastVersion, ExternalId = known.ExternalId, LastDeliveredAt = known.LastDeliveredAt, SentState = known.SentState,
        };
        string? secret;
        try
        {
            secret = secrets.Unprotect(connector.ProtectedSecret);
        }
        catch (CryptographicException)
        {
            throw new RuleViolation(ViolationKind.Conflict, "The connector's secret cannot be unprotected (Data Protection keys changed); set the secret again.");
        }

        return await preview.PreviewAsync(connector, secret, state, previous, cancellationToken);
    }

    /// <summary>What the audit trail keeps of a connector: never its secret.</summary>
    private sealed record ConnectorSnapshot(Guid Id, Guid ApplicationId, string Name, string Kind, bool Paused, string Settings, bool HasSecret)
    {
        /// <summary>Users queued by the initial sync (creation only).</summary>
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? InitialSyncUsers { get; init; }
    }

    private ConnectorSnapshot Snapshot(Connector c) =>
        new(c.Id, c.ApplicationId, c.Name, kinds.NameOf(c.Kind), c.Paused, c.Settings, c.ProtectedSecret is not null);

    /// <summary>Checks name, settings and secret into <paramref name="errors"/>; returns the settings JSON to store.</summary>
    private async Task<string?> CheckAsync(
        ConnectorInput input, IConnectorKind? kind, Guid applicationId, Guid? connectorId, bool hasStoredSecret, FieldErrors errors, CancellationToken cancellationToken)
    {
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > NameMaxLength)
        {
            errors.Add("name", $"name is required, at most {NameMaxLength} characters.");
        }
        else if (await db.Connectors.AnyAsync(c => c.ApplicationId == applicationId && c.Name == name && c.Id != connectorId, cancellationToken))
        {
            errors.Add("name", NameTaken(name));
        }

        if (input.Settings.ValueKind != JsonValueKind.Object)
        {
            errors.Add("settings", "settings must be a JSON object.");
            return null;
        }

        if (input.Secret is { Length: 0 or > SecretMaxLength })
        {
            errors.Add("secret", $"secret must be 1 to {SecretMaxLength} characters when sent.");
        }

        foreach (var (field, messages) in kind?.Validate(input.Settings, input.Secret, hasStoredSecret) ?? new Dictionary<string, string[]>())
        {
            foreach (var message in messages)
            {
                errors.Add(field, message);
            }
        }

        var json = input.Settings.GetRawText();
        if (json.Length > SettingsMaxLength)
        {
            errors.Add("settings", $"settings must be at most {SettingsMaxLength} characters of JSON.");
        }

        return json;
    }

    private static string NameTaken(string name) => $"This application already has a connector named \"{name}\".";

    /// <summary>Saves in one transaction; a name taken by a concurrent request between the check and the save is the same refusal as a taken name.</summary>
    private async Task SaveAsync(Connector connector, Func<Task> work, CancellationToken cancellationToken)
    {
        try
        {
            await db.InTransactionAsync(work, cancellationToken);
        }
        catch (RuleViolation conflict) when (conflict.Kind == ViolationKind.Conflict && conflict.InnerException is DbUpdateException)
        {
            if (await db.Connectors.AsNoTracking().AnyAsync(c => c.ApplicationId == connector.ApplicationId && c.Name == connector.Name && c.Id != connector.Id, cancellationToken))
            {
                throw RuleViolation.Field("name", NameTaken(connector.Name));
            }

            throw;
        }
    }
}

using System.Diagnostics.Metrics;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Webhooks;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.State;
using IdentityHub.Testing;
using Microsoft.Extensions.Configuration;

namespace IdentityHub.Provisioning.Tests;

/// <summary>The dispatcher's pure rules: backoff and its defaults, versions and events, signatures, metrics, stored drift reports.</summary>
public sealed class DispatchRulesTests
{
    private static ProvisionedUser State(bool active = true, bool exists = true, string name = "Ada", params string[] roles) =>
        new("u1", "ada", name, "ada@example.test", null, "E1", null, null, null, null, active, exists, roles, [], 0);

    [Fact]
    public void Backoff_Attempts_StayUnderTheExponentialCeilingAndTheCap()
    {
        var random = new Random(7);
        for (var attempt = 1; attempt <= 12; attempt++)
        {
            var ceiling = TimeSpan.FromMilliseconds(Math.Min(60_000, 1000 * Math.Pow(2, attempt - 1)));
            var wait = Backoff.Next(attempt, TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), random);
            Assert.InRange(wait, TimeSpan.Zero, ceiling);
        }
    }

    [Fact]
    public void Backoff_RetryAfterGiven_WinsOverTheCap()
    {
        var wait = Backoff.Next(1, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), new Random(1));

        Assert.Equal(TimeSpan.FromSeconds(90), wait);
    }

    [Fact]
    public void Defaults_DownstreamDown_RetriedForHoursBeforeTheDeadLetters()
    {
        var defaults = new ProvisioningOptions();

        // Full jitter waits half the ceiling on average; the first attempt fails at once, so MaxAttempts - 1 waits.
        var ceilings = Enumerable.Range(1, defaults.MaxAttempts - 1)
            .Select(n => Math.Min(defaults.BackoffCap.TotalSeconds, defaults.BackoffBase.TotalSeconds * Math.Pow(2, n - 1))).ToList();
        var average = TimeSpan.FromSeconds(ceilings.Sum() / 2);
        var longest = TimeSpan.FromSeconds(ceilings.Sum());

        Assert.True(average >= TimeSpan.FromHours(2), $"on average dead after {average}");
        Assert.True(longest <= TimeSpan.FromHours(6), $"at most dead after {longest}");
        Assert.True(defaults.BackoffCap <= TimeSpan.FromMinutes(15), "a recovered target waits at most a quarter of an hour for its next try");
        Assert.Empty(defaults.Problems());
    }

    [Fact]
    public void Sample_ProvisioningSection_StatesTheDefaults()
    {
        var sample = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(TestEnvironment.SolutionRoot, "appsettings.sample.json"), optional: false)
            .Build();
        var documented = new ProvisioningOptions();
        sample.GetSection(ProvisioningOptions.Section).Bind(documented);
        var defaults = new ProvisioningOptions();

        foreach (var property in typeof(ProvisioningOptions).GetProperties().Where(p => p.CanWrite))
        {
            Assert.True(sample.GetSection($"{ProvisioningOptions.Section}:{property.Name}").Exists(), $"appsettings.sample.json lacks Provisioning:{property.Name}.");
            // An empty string in the sample documents a null default (NodeName).
            Assert.Equal(property.GetValue(defaults) ?? (property.PropertyType == typeof(string) ? "" : null), property.GetValue(documented));
        }
    }

    [Fact]
    public void Bounded_LongLists_KeepsTheFirstItemsAndTheWholeCounts()
    {
        var items = Enumerable.Range(0, 7).Select(i => new DriftItem($"u{i}", $"n{i}", null, [], null)).ToList();
        var report = new DriftReport(Guid.NewGuid(), DateTimeOffset.UtcNow, 7, 0, items, [], items);

        var stored = report.Bounded(3);

        Assert.Equal(3, stored.Missing.Count);
        Assert.Equal(7, stored.MissingCount);
        Assert.Equal(7, stored.DifferentCount);
        Assert.True(stored.Truncated);
        Assert.False(stored.InSync);
        Assert.False(report.Truncated);
    }

    [Fact]
    public void Assign_SameStateAgain_KeepsTheVersionOtherwiseTheNextOne()
    {
        var known = new ConnectorUserState { ConnectorId = Guid.NewGuid(), UserId = "u1" };

        // Each version is delivered (accepted) before the next is assigned.
        // A user enters a connector's scope with a right in its application (issue 7: no rights, no profile sent).
        Assert.Equal(1, Deliver(known, State(roles: "viewer")).Version);
        Assert.Equal(ProvisioningEvents.UserCreated, ProvisioningEvents.Of(known));
        Assert.Equal(1, Deliver(known, State(roles: "viewer")).Version);
        Assert.Equal(2, Deliver(known, State(name: "Ada L.", roles: "viewer")).Version);
        Assert.Equal(ProvisioningEvents.UserUpdated, ProvisioningEvents.Of(known));
        Assert.Equal(3, Deliver(known, State(name: "Ada L.", roles: ["viewer", "approver"])).Version);
        Assert.Equal(ProvisioningEvents.AccessChanged, ProvisioningEvents.Of(known));
        Assert.Equal(4, Deliver(known, State(active: false, name: "Ada L.")).Version);
        Assert.Equal(ProvisioningEvents.UserDisabled, ProvisioningEvents.Of(known));
        Assert.Equal(5, Deliver(known, State(exists: false)).Version);
        Assert.Equal(ProvisioningEvents.UserDeleted, ProvisioningEvents.Of(known));
        Assert.Equal(6, Deliver(known, State(roles: "viewer")).Version);
        Assert.Equal(ProvisioningEvents.UserCreated, ProvisioningEvents.Of(known));
    }

    [Fact]
    public void Assign_OutsideTheScope_NothingUntilARightThenDeletedWhenTheLastGoesOrTheUserLeaves()
    {
        var known = new ConnectorUserState { ConnectorId = Guid.NewGuid(), UserId = "u1" };

        Deliver(known, State());
        Assert.Equal(ProvisioningEvents.None, ProvisioningEvents.Of(known));
        Deliver(known, State(active: false));
        Assert.Equal(ProvisioningEvents.None, ProvisioningEvents.Of(known));
        Deliver(known, State(roles: "viewer"));
        Assert.Equal(ProvisioningEvents.UserCreated, ProvisioningEvents.Of(known));
        var lost = Deliver(known, State());
        Assert.Equal(ProvisioningEvents.UserDeleted, ProvisioningEvents.Of(known));
        Assert.True(Deliver(known, State(name: "Ada L.")).Version > lost.Version);
        Assert.Equal(ProvisioningEvents.None, ProvisioningEvents.Of(known));
        Deliver(known, State(roles: "viewer"));
        Deliver(known, State(active: false) with { Left = true });
        Assert.Equal(ProvisioningEvents.UserDeleted, ProvisioningEvents.Of(known));
    }

    /// <summary>Assigns the state's version and records that the target accepted it, as a successful delivery does.</summary>
    private static ProvisionedUser Deliver(ConnectorUserState known, ProvisionedUser state)
    {
        var assigned = StateVersions.Assign(known, state);
        StateVersions.Delivered(known);
        return assigned;
    }

    [Fact]
    public void Sign_KnownVector_MatchesTheStandardWebhooksScheme()
    {
        // HMAC-SHA256 over "{id}.{timestamp}.{body}" with the base64 key after "whsec_", base64 after "v1,".
        var key = new byte[32];
        var secret = "whsec_" + Convert.ToBase64String(key);
        var expected = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(key, "msg_1.1700000000.{}"u8.ToArray()));

        Assert.Equal(expected, WebhookSignature.Sign(secret, "msg_1", 1700000000, "{}"));
        Assert.StartsWith("whsec_", WebhookSignature.NewSecret(), StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(WebhookSignature.NewSecret()["whsec_".Length..]).Length);
    }

    [Fact]
    public void MessageId_SameVersion_IsStableAndDiffersPerVersion()
    {
        var connector = Guid.NewGuid();

        Assert.Equal(WebhookConnector.MessageId(connector, "u1", 3), WebhookConnector.MessageId(connector, "u1", 3));
        Assert.NotEqual(WebhookConnector.MessageId(connector, "u1", 3), WebhookConnector.MessageId(connector, "u1", 4));
        Assert.NotEqual(WebhookConnector.MessageId(connector, "u1", 3), WebhookConnector.MessageId(connector, "u2", 3));
    }

    [Fact]
    public void Settings_PlainHttpToAnotherHost_IsRefused()
    {
        Assert.False(WebhookSettings.TryParse("""{"url":"http://hooks.example.com/x"}""", out _, out var errors));
        Assert.Contains("settings.url", errors.Keys);
        Assert.True(WebhookSettings.TryParse("""{"url":"http://127.0.0.1:8080/x"}""", out _, out _));
        Assert.True(WebhookSettings.TryParse("""{"url":"https://hooks.example.com/x"}""", out _, out _));
    }

    [Fact]
    public void RecordDelivery_Failure_MeasuresLatencyAndCountsTheFailure()
    {
        using var meters = new ServiceMeterFactory();
        using var metrics = new ProvisioningMetrics(meters);
        var seen = new List<(string Instrument, double Value, string? Outcome)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProvisioningMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => seen.Add((i.Name, v, Outcome(tags))));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => seen.Add((i.Name, v, Outcome(tags))));
        listener.Start();

        metrics.RecordDelivery("expense", "Webhook", "retry", TimeSpan.FromMilliseconds(250));
        metrics.RecordChangeLatency("expense", "Webhook", TimeSpan.FromSeconds(3));
        metrics.SetQueue([new ConnectorBacklog("expense", "Webhook", 42, 3), new ConnectorBacklog("attendance", "Scim", 7, 0)]);
        listener.RecordObservableInstruments();

        Assert.Contains(("identityhub.provisioning.delivery.duration", 0.25, "retry"), seen);
        Assert.Contains(("identityhub.provisioning.change.latency", 3, null), seen);
        Assert.Contains(("identityhub.provisioning.delivery.failures", 1, "retry"), seen);
        Assert.Contains(("identityhub.provisioning.queue.depth", 42, null), seen);
        Assert.Contains(("identityhub.provisioning.queue.depth", 7, null), seen);
        Assert.Contains(("identityhub.provisioning.dead_letters", 3, null), seen);
    }

    private static string? Outcome(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "outcome")
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    /// <summary>A meter factory of its own, so other servers in this test process do not add measurements.</summary>
    private sealed class ServiceMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            _meters.Add(meter);
            return meter;
        }

        public void Dispose() => _meters.ForEach(m => m.Dispose());
    }
}

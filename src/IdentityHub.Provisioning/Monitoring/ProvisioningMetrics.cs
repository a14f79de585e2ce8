using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IdentityHub.Provisioning.Monitoring;

/// <summary>
/// OpenTelemetry instruments of the meter <c>IdentityHub.Provisioning</c>: attempt duration, commit-to-delivered latency,
/// failures and queue depth
/// (names follow the OpenTelemetry semantic-convention style: dotted, unit in the unit field).
/// </summary>
public sealed class ProvisioningMetrics : IDisposable
{
    public const string MeterName = "IdentityHub.Provisioning";

    private readonly Meter _meter;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _changeLatency;
    private readonly Counter<long> _failures;
    private long _queueDepth;
    private long _deadLetters;

    public ProvisioningMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _latency = _meter.CreateHistogram<double>("identityhub.provisioning.delivery.duration", "s", "Time one delivery attempt took, by connector kind and outcome.");
        _changeLatency = _meter.CreateHistogram<double>("identityhub.provisioning.change.latency", "s",
            "Time from a change's commit (the oldest row a delivery carried) to its successful delivery, by connector kind.");
        _failures = _meter.CreateCounter<long>("identityhub.provisioning.delivery.failures", "{failure}", "Failed delivery attempts, by connector kind and outcome (retry, dead).");
        _meter.CreateObservableGauge("identityhub.provisioning.queue.depth", () => Volatile.Read(ref _queueDepth), "{row}", "Pending outbox rows (due or waiting for a retry).");
        _meter.CreateObservableGauge("identityhub.provisioning.dead_letters", () => Volatile.Read(ref _deadLetters), "{row}", "Outbox rows in the dead letters.");
    }

    public void RecordDelivery(string kind, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "connector.kind", kind }, { "outcome", outcome } };
        _latency.Record(duration.TotalSeconds, tags);
        if (outcome != "delivered")
        {
            _failures.Add(1, tags);
        }
    }

    public void RecordChangeLatency(string kind, TimeSpan latency) =>
        _changeLatency.Record(Math.Max(0, latency.TotalSeconds), new TagList { { "connector.kind", kind } });

    public void SetQueue(long pending, long dead)
    {
        Volatile.Write(ref _queueDepth, pending);
        Volatile.Write(ref _deadLetters, dead);
    }

    public void Dispose() => _meter.Dispose();
}

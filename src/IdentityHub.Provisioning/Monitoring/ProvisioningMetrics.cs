using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace IdentityHub.Provisioning.Monitoring;

/// <summary>
/// OpenTelemetry instruments of the meter <c>IdentityHub.Provisioning</c>, per connector (tags <c>connector</c> = its name
/// and <c>connector.kind</c>): attempt duration, commit-to-delivered latency, failures, queue depth and dead letters; and
/// the inbound sources' runs (names follow the OpenTelemetry semantic-convention style: dotted, unit in the unit field).
/// </summary>
public sealed class ProvisioningMetrics : IDisposable
{
    public const string MeterName = "IdentityHub.Provisioning";

    private readonly Meter _meter;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _changeLatency;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _inboundRuns;
    private readonly Counter<long> _inboundRecords;
    private IReadOnlyList<ConnectorBacklog> _queues = [];

    public ProvisioningMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _latency = _meter.CreateHistogram<double>("identityhub.provisioning.delivery.duration", "s", "Time one delivery attempt took, by connector kind and outcome.");
        _changeLatency = _meter.CreateHistogram<double>("identityhub.provisioning.change.latency", "s",
            "Time from a change's commit (the oldest row a delivery carried) to its successful delivery, by connector kind.");
        _failures = _meter.CreateCounter<long>("identityhub.provisioning.delivery.failures", "{failure}", "Failed delivery attempts, by connector kind and outcome (retry, dead).");
        _meter.CreateObservableGauge("identityhub.provisioning.queue.depth", () => Measure(q => q.Pending), "{row}",
            "Pending outbox rows (due or waiting for a retry), per connector.");
        _meter.CreateObservableGauge("identityhub.provisioning.dead_letters", () => Measure(q => q.Dead), "{row}", "Outbox rows in the dead letters, per connector.");
        _inboundRuns = _meter.CreateHistogram<double>("identityhub.inbound.run.duration", "s", "Runs of the inbound sources, by source, run kind and outcome (succeeded, failed).");
        _inboundRecords = _meter.CreateCounter<long>("identityhub.inbound.records", "{record}",
            "Records an inbound run handled, by source and result (created, updated, left, skipped, conflict, failed).");
    }

    public void RecordDelivery(string connector, string kind, string outcome, TimeSpan duration)
    {
        var tags = new TagList { { "connector", connector }, { "connector.kind", kind }, { "outcome", outcome } };
        _latency.Record(duration.TotalSeconds, tags);
        if (outcome != "delivered")
        {
            _failures.Add(1, tags);
        }
    }

    public void RecordChangeLatency(string connector, string kind, TimeSpan latency) =>
        _changeLatency.Record(Math.Max(0, latency.TotalSeconds), new TagList { { "connector", connector }, { "connector.kind", kind } });

    /// <summary>The queue per connector, as the dispatcher last counted it (connectors with nothing queued included, at 0).</summary>
    public void SetQueue(IReadOnlyList<ConnectorBacklog> queues) => Volatile.Write(ref _queues, queues);

    /// <summary>One finished inbound run: its duration and what it did to how many records.</summary>
    public void RecordInboundRun(string source, string kind, bool failed, TimeSpan duration, IEnumerable<(string Result, int Count)> records)
    {
        _inboundRuns.Record(Math.Max(0, duration.TotalSeconds), new TagList { { "source", source }, { "run.kind", kind }, { "outcome", failed ? "failed" : "succeeded" } });
        foreach (var (result, count) in records)
        {
            if (count > 0)
            {
                _inboundRecords.Add(count, new TagList { { "source", source }, { "result", result } });
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> Measure(Func<ConnectorBacklog, long> count) =>
        Volatile.Read(ref _queues).Select(q => new Measurement<long>(count(q), new KeyValuePair<string, object?>("connector", q.Connector),
            new KeyValuePair<string, object?>("connector.kind", q.Kind)));
}

/// <summary>One connector's queue: its name and kind, pending rows and dead letters.</summary>
public sealed record ConnectorBacklog(string Connector, string Kind, long Pending, long Dead);

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Exchange.Node.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Testing;

/// <summary>What one node's meter measures, as a collector would see it.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _latest = new();

    public MetricsRecorder(IServiceProvider node)
    {
        // Only this node's meter: other nodes of the test process have their own.
        var factory = node.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == NodeMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            Measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString())));
            _latest[instrument.Name] = value;
        });
        _listener.Start();
    }

    public ConcurrentBag<(string Name, long Value, Dictionary<string, string?> Tags)> Measurements { get; } = [];

    public long Sum(string name, Func<Dictionary<string, string?>, bool>? where = null) =>
        Measurements.Where(m => m.Name == name && (where?.Invoke(m.Tags) ?? true)).Sum(m => m.Value);

    /// <summary>What the gauge reports now (null before the node's first sample).</summary>
    public long? Gauge(string name)
    {
        _latest.TryRemove(name, out _);
        _listener.RecordObservableInstruments();
        return _latest.TryGetValue(name, out var value) ? value : null;
    }

    public void Dispose() => _listener.Dispose();
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Exchange.Node.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Testing;

/// <summary>What one node's meter measures, as a collector would see it.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();

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
            Measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value?.ToString()))));
        _listener.Start();
    }

    public ConcurrentBag<(string Name, long Value, Dictionary<string, string?> Tags)> Measurements { get; } = [];

    public long Sum(string name, Func<Dictionary<string, string?>, bool>? where = null) =>
        Measurements.Where(m => m.Name == name && (where?.Invoke(m.Tags) ?? true)).Sum(m => m.Value);

    public long? Gauge(string name)
    {
        _listener.RecordObservableInstruments();
        return Measurements.Where(m => m.Name == name).Select(m => (long?)m.Value).LastOrDefault();
    }

    public void Dispose() => _listener.Dispose();
}

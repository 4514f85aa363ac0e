namespace Exchange.Node.Telemetry;

/// <summary>Metrics export. Section <c>Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// Where to send OpenTelemetry metrics over OTLP/HTTP with protobuf (a collector's port 4318,
    /// not gRPC's 4317), e.g. http://collector:4318; /v1/metrics is added.
    /// Empty: OTEL_EXPORTER_OTLP_ENDPOINT if set, else no export (the meters still exist, for
    /// dotnet-counters and the like).
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the outbox depth and audit size are read from the database.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(15);
}

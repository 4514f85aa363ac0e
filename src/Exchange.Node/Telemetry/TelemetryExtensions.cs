using Exchange.Node.Settings;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Exchange.Node.Telemetry;

public static class TelemetryExtensions
{
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindSection(TelemetryOptions.Section)
            .Validate(o => o.SampleInterval > TimeSpan.Zero, "Telemetry:SampleInterval must be positive")
            .Validate(o => o.ExportInterval > TimeSpan.Zero, "Telemetry:ExportInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<NodeMetrics>();
        builder.Services.AddHostedService<GaugeSampler>();

        var options = builder.Configuration.GetOptions<TelemetryOptions>(TelemetryOptions.Section);
        var endpoint = !string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? options.OtlpEndpoint : builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return builder;
        }
        if (!IsHttpUri(endpoint))
        {
            // Here rather than in options validation: the value may come from OTEL_EXPORTER_OTLP_ENDPOINT, which no options class binds.
            throw new Startup.StartRefusedException(string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? "OTEL_EXPORTER_OTLP_ENDPOINT" : "Telemetry:OtlpEndpoint",
                $"'{endpoint}' is not an absolute http:// or https:// URI", "give the OTLP/HTTP collector's base address, e.g. http://collector:4318, or remove the setting");
        }
        var institute = builder.Configuration[$"{NodeOptions.Section}:InstituteId"];
        builder.Services.AddOpenTelemetry()
            // One series per process: replicas of an institute must not add into each other's counters.
            .ConfigureResource(resource => resource
                .AddService("exchange-node", serviceInstanceId: $"{institute}-{Environment.MachineName}-{Environment.ProcessId}")
                .AddAttributes([new("exchange.institute", institute ?? "")]))
            .WithMetrics(metrics => metrics
                // The node's own, and what ASP.NET Core and Kestrel already measure (requests, connections).
                .AddMeter(NodeMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddOtlpExporter((exporter, reader) =>
                {
                    // OTLP/HTTP: the signal's path goes after whatever base path the collector has.
                    exporter.Endpoint = new Uri(endpoint.TrimEnd('/') + "/v1/metrics");
                    exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.ExportInterval.TotalMilliseconds;
                }));
        return builder;
    }

    private static bool IsHttpUri(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

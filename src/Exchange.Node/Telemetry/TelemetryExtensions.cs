using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Exchange.Node.Telemetry;

public static class TelemetryExtensions
{
    public static IHostApplicationBuilder AddTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section);
        builder.Services.AddSingleton<NodeMetrics>();
        builder.Services.AddHostedService<GaugeSampler>();

        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        var endpoint = !string.IsNullOrWhiteSpace(options.OtlpEndpoint) ? options.OtlpEndpoint : builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return builder;
        }
        var institute = builder.Configuration[$"{NodeOptions.Section}:InstituteId"];
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("exchange-node", serviceInstanceId: institute))
            .WithMetrics(metrics => metrics
                // The node's own, and what ASP.NET Core and Kestrel already measure (requests, connections).
                .AddMeter(NodeMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel")
                .AddOtlpExporter((exporter, reader) =>
                {
                    exporter.Endpoint = new Uri(new Uri(endpoint), "v1/metrics");
                    exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)options.ExportInterval.TotalMilliseconds;
                }));
        return builder;
    }
}

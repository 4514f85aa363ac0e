using Exchange.Node.Settings;

namespace Exchange.Node.Audit;

public static class AuditExtensions
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuditOptions>().BindSection(AuditOptions.Section)
            .Validate(o => o.IntegrationBatchSize is > 0 and <= 50_000, "Audit:IntegrationBatchSize must be between 1 and 50000")
            .Validate(o => o.CheckpointInterval > TimeSpan.Zero, "Audit:CheckpointInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddScoped<AuditRecorder>();
        builder.Services.AddSingleton<AuditLogGrowth>();
        builder.Services.AddScoped<AuditLog>();
        builder.Services.AddScoped<Witnessing>();
        builder.Services.AddHostedService<AuditWorker>();
        builder.Services.AddHealthChecks().AddCheck<WitnessAlertHealthCheck>("witness", tags: ["alert"]);
        return builder;
    }

    public static void MapAudit(this IEndpointRouteBuilder app) => app.MapGrpcService<AuditGrpcService>();
}

using Exchange.Domain.Findings;

namespace Exchange.Node.Findings;

public static class FindingsExtensions
{
    public static IHostApplicationBuilder AddFindings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(builder.Configuration.GetSection("Findings:Limits").Get<FindingLimits>() ?? FindingLimits.Default);
        builder.Services.AddSingleton<FindingProtector>();
        builder.Services.AddScoped<FindingStore>();
        builder.Services.AddOptions<ImportOptions>().BindConfiguration(ImportOptions.Section)
            .Validate(o => o.MaxConcurrent > 0, "Findings:Imports:MaxConcurrent must be positive")
            .Validate(o => o.SlotWait >= TimeSpan.Zero, "Findings:Imports:SlotWait cannot be negative")
            .ValidateOnStart();
        builder.Services.AddSingleton<InspectUploads>();
        return builder;
    }

    public static void MapFindings(this IEndpointRouteBuilder app) => app.MapGrpcService<FindingGrpcService>();
}

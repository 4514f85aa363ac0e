using Exchange.Node.Settings;
using Exchange.Domain.Findings;

namespace Exchange.Node.Findings;

public static class FindingsExtensions
{
    public static IHostApplicationBuilder AddFindings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(builder.Configuration.GetSection("Findings:Limits").Get<FindingLimits>() ?? FindingLimits.Default);
        builder.Services.AddOptions<FindingsOptions>().BindSection(FindingsOptions.Section)
            .Validate(o => o.EmbargoClockSkew >= TimeSpan.Zero && o.EmbargoClockSkew <= TimeSpan.FromHours(1),
                "Findings:EmbargoClockSkew must be between 00:00:00 and 01:00:00")
            .ValidateOnStart();
        builder.Services.AddSingleton<FindingProtector>();
        builder.Services.AddScoped<HeldFindings>();
        builder.Services.AddHostedService<WithdrawalReasonSealer>();
        builder.Services.AddScoped<FindingStore>();
        builder.Services.AddScoped<Access.FindingGate>();
        builder.Services.AddOptions<ImportOptions>().BindSection(ImportOptions.Section)
            .Validate(o => o.MaxConcurrent > 0, "Findings:Imports:MaxConcurrent must be positive")
            .Validate(o => o.SlotWait >= TimeSpan.Zero, "Findings:Imports:SlotWait cannot be negative")
            .Validate(o => o.IdleTimeout > TimeSpan.Zero && o.IdleTimeout <= TimeSpan.FromHours(1),
                "Findings:Imports:IdleTimeout must be more than 00:00:00 and at most 01:00:00")
            .Validate(o => o.MinBytesPerSecond >= 0, "Findings:Imports:MinBytesPerSecond cannot be negative")
            .ValidateOnStart();
        builder.Services.AddSingleton<InspectUploads>();
        builder.Services.AddHostedService<StaleUploadCleanup>();
        return builder;
    }

    public static void MapFindings(this IEndpointRouteBuilder app) => app.MapGrpcService<FindingGrpcService>();
}

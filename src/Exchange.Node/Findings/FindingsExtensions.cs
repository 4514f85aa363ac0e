using Exchange.Domain.Findings;

namespace Exchange.Node.Findings;

public static class FindingsExtensions
{
    public static IHostApplicationBuilder AddFindings(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(builder.Configuration.GetSection("Findings:Limits").Get<FindingLimits>() ?? FindingLimits.Default);
        builder.Services.AddOptions<FindingsOptions>().BindConfiguration(FindingsOptions.Section)
            .Validate(o => o.EmbargoClockSkew >= TimeSpan.Zero && o.EmbargoClockSkew <= TimeSpan.FromHours(1),
                "Findings:EmbargoClockSkew must be between 00:00:00 and 01:00:00")
            .ValidateOnStart();
        builder.Services.AddSingleton<FindingProtector>();
        builder.Services.AddScoped<HeldFindings>();
        builder.Services.AddHostedService<WithdrawalReasonSealer>();
        builder.Services.AddScoped<FindingStore>();
        builder.Services.AddScoped<Access.FindingGate>();
        builder.Services.AddSingleton<InspectUploads>();
        return builder;
    }

    public static void MapFindings(this IEndpointRouteBuilder app) => app.MapGrpcService<FindingGrpcService>();
}

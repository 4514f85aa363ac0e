using Exchange.Node.Settings;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Subscriptions;

public static class SubscriptionsExtensions
{
    public static IHostApplicationBuilder AddSubscriptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SubscriptionOptions>().BindSection(SubscriptionOptions.Section)
            .Validate(o => o.MaxSubscribers > 0, "Subscriptions:MaxSubscribers must be positive")
            .Validate(o => o.MaxPerClient > 0, "Subscriptions:MaxPerClient must be positive")
            .Validate(o => o.PageContentBytes > 0, "Subscriptions:PageContentBytes must be positive")
            .Validate(o => o.WriteTimeout > TimeSpan.Zero, "Subscriptions:WriteTimeout must be positive")
            .Validate(o => o.PageSize is > 0 and <= 5000, "Subscriptions:PageSize must be between 1 and 5000")
            .Validate(o => o.PollInterval > TimeSpan.Zero, "Subscriptions:PollInterval must be positive")
            .Validate(o => o.TokenCheckInterval > TimeSpan.Zero && o.TokenCheckInterval <= TimeSpan.FromMinutes(1), "Subscriptions:TokenCheckInterval must be more than zero and at most one minute")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new SubscriptionSlots(sp.GetRequiredService<IOptions<SubscriptionOptions>>().Value.MaxSubscribers, sp.GetRequiredService<IOptions<SubscriptionOptions>>().Value.MaxPerClient));
        builder.Services.AddScoped<FeedReader>();
        return builder;
    }

    public static void MapSubscriptions(this IEndpointRouteBuilder app) => app.MapGrpcService<SubscriptionGrpcService>();
}

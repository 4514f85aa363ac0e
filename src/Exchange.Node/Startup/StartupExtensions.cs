using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Startup;

public static class StartupExtensions
{
    /// <summary>Registers <see cref="StartFailureLogFilter"/> around the logger factory.</summary>
    public static IHostApplicationBuilder AddStartRefusals(this IHostApplicationBuilder builder)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new StartFailureLogFilter(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));
        return builder;
    }
}

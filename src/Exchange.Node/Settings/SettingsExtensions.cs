using Microsoft.Extensions.Options;

namespace Exchange.Node.Settings;

public static class SettingsExtensions
{
    /// <summary>
    /// Binds the options to configuration section <paramref name="section"/> as
    /// <c>BindConfiguration</c> does, except that every list comes whole from one source
    /// (<see cref="LayeredConfiguration"/>). Every option class of the node binds this way.
    /// </summary>
    public static OptionsBuilder<T> BindSection<T>(this OptionsBuilder<T> builder, string section) where T : class
    {
        // As BindConfiguration does: a reload of the configuration (an edited settings file) reaches
        // IOptionsMonitor, so that, for one, a client removed from the file is removed at once.
        builder.Services.AddSingleton<IOptionsChangeTokenSource<T>>(services =>
            new ConfigurationChangeTokenSource<T>(builder.Name, services.GetRequiredService<IConfiguration>()));
        return builder.Configure<IConfiguration>((options, configuration) => LayeredConfiguration.Resolve(configuration, section).Bind(options));
    }

    /// <summary>The section bound as <see cref="BindSection{T}"/> binds it, for settings read while the node is composed.</summary>
    public static T GetOptions<T>(this IConfiguration configuration, string section) where T : new() =>
        LayeredConfiguration.Get<T>(configuration, section);
}

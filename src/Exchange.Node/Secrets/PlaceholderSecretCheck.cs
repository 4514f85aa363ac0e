using Microsoft.Extensions.Options;

namespace Exchange.Node.Secrets;

public static class PlaceholderSecretCheck
{
    /// <summary>
    /// Refuses the start, with one message naming every such setting, when a client secret, the
    /// broker or database password or the certificate's password is a placeholder (see <see cref="PlaceholderSecrets"/>).
    /// </summary>
    public static IHostApplicationBuilder AddPlaceholderSecretCheck(this IHostApplicationBuilder builder)
    {
        var isDevelopment = builder.Environment.IsDevelopment();
        builder.Services.AddOptions<ConfiguredSecrets>().ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ConfiguredSecrets>>(sp => new PlaceholderValidation(sp.GetRequiredService<IConfiguration>(), isDevelopment));
        return builder;
    }

    /// <summary>The secrets in configuration, as one thing to validate at start.</summary>
    public sealed class ConfiguredSecrets;

    private sealed class PlaceholderValidation(IConfiguration configuration, bool isDevelopment) : IValidateOptions<ConfiguredSecrets>
    {
        public ValidateOptionsResult Validate(string? name, ConfiguredSecrets options) =>
            PlaceholderSecrets.Find(configuration, isDevelopment) is { Count: > 0 } found
                ? ValidateOptionsResult.Fail($"Placeholder secrets refused: {string.Join("; ", found)}. Give each a secret of its own, e.g. `openssl rand -base64 32`.")
                : ValidateOptionsResult.Success;
    }
}

namespace Exchange.Cli;

/// <summary>
/// What a command runs against: where it writes, where it keeps credentials, and how it reaches a
/// node. Tests pass their own writers and an in-memory HTTP handler.
/// </summary>
public sealed class CliContext
{
    public TextWriter Out { get; init; } = Console.Out;
    public TextWriter Error { get; init; } = Console.Error;

    /// <summary>Folder for the credentials file; defaults to $EXCHANGE_CONFIG_DIR or ~/.config/exchange.</summary>
    public string ConfigDirectory { get; init; } = DefaultConfigDirectory();

    /// <summary>Set by tests to reach an in-process node; null means real HTTP.</summary>
    public Func<HttpMessageHandler>? HttpHandlerFactory { get; init; }

    private static string DefaultConfigDirectory()
    {
        var configured = Environment.GetEnvironmentVariable("EXCHANGE_CONFIG_DIR");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }
        var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
        var root = string.IsNullOrWhiteSpace(xdg)
            // DoNotVerify: a home folder that does not exist yet (a container user's) is made, owner-only,
            // rather than read as "" and the credentials written under the current directory.
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify), ".config")
            : xdg;
        return Path.Combine(root, "exchange");
    }
}

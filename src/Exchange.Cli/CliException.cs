namespace Exchange.Cli;

/// <summary>A failure to report to the user in one message, with the exit code it maps to.</summary>
public sealed class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

public static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotAuthorized = 3;
    public const int InvalidInput = 4;
    public const int NotFound = 5;
    public const int Unavailable = 6;
}

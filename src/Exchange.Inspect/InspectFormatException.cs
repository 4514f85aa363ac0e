namespace Exchange.Inspect;

/// <summary>A file that is not a readable Inspect log; the message says what is wrong and where.</summary>
public sealed class InspectFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// A readable log of a run that did not finish (cancelled, error, crashed), refused because the
/// user did not allow incomplete runs. Distinct from a bad file: the fix is a flag, not a new file.
/// </summary>
public sealed class IncompleteRunException(string status, string message) : Exception(message)
{
    public string Status { get; } = status;
}

namespace Exchange.Node.Startup;

/// <summary>
/// The node will not start, for a reason its operator fixes rather than a fault in the code: a
/// setting, the manifest, the keys, the database, an address. <see cref="Entry"/> names the setting
/// or the file, <see cref="Problems"/> say what is wrong (each naming its entry), <see cref="Fix"/>
/// says what to do. <see cref="RefusedStart"/> reports it as one message with exit code 2.
/// </summary>
public sealed class StartRefusedException : Exception
{
    public StartRefusedException(string entry, IReadOnlyList<string> problems, string fix, Exception? inner = null)
        : base(Describe(entry, problems, fix), inner)
    {
        Entry = entry;
        Problems = problems;
        Fix = fix;
    }

    public StartRefusedException(string entry, string problem, string fix, Exception? inner = null) : this(entry, [problem], fix, inner)
    {
    }

    public string Entry { get; }
    public IReadOnlyList<string> Problems { get; }
    public string Fix { get; }

    // Nothing in the code is at fault, so a stack trace would only bury the line that matters:
    // whatever prints this exception (a log formatter, the runtime) prints the message alone.
    public override string? StackTrace => null;

    public override string ToString() => Message;

    private static string Describe(string entry, IReadOnlyList<string> problems, string fix) =>
        (problems.Count == 1
            ? $"{entry}: {problems[0]}"
            : $"{entry}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}")
        + $"{Environment.NewLine}Fix: {fix}";
}

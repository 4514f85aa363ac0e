using Exchange.Envelopes;

namespace Exchange.Cli.Commands;

/// <summary>
/// Every file a command writes at the user's word (--out, --credentials-out, --cursor-file) holds what
/// a node gave it: audit entries, checkpoints, cursors, secrets. Each is written owner-only (0600)
/// from its first byte whatever the umask, into a file beside it that replaces any earlier one by a
/// rename, so a file once open to others is never rewritten under its old mode. A failure names
/// the option, exit 4.
/// </summary>
internal static class OutputFiles
{
    /// <exception cref="CliException">The file cannot be written (exit 4, naming <paramref name="option"/>).</exception>
    public static void WriteAllText(string option, string path, string contents)
    {
        try
        {
            OwnerOnlyFile.WriteAllText(path, contents, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option}: cannot write '{path}': {e.Message}", ExitCodes.InvalidInput);
        }
    }

    /// <summary>As <see cref="WriteAllText"/>, streamed by <paramref name="write"/>.</summary>
    /// <exception cref="CliException">The file cannot be written (exit 4, naming <paramref name="option"/>).</exception>
    public static async Task WriteAsync(string option, string path, Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await OwnerOnlyFile.WriteAsync(path, write, overwrite: true, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option}: cannot write '{path}': {e.Message}", ExitCodes.InvalidInput);
        }
    }
}

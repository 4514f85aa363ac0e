using System.Globalization;

namespace Exchange.Cli.Output;

/// <summary>
/// Progress of a long transfer on stderr: a bar redrawn in place on a terminal, a line every 10%
/// when stderr is a file or a pipe (so logs stay readable).
/// </summary>
internal sealed class ProgressBar(TextWriter writer, string what, long total, bool interactive)
{
    private const int Width = 30;
    private int _shown = -1;

    public void Report(long done)
    {
        var percent = total <= 0 ? 100 : (int)Math.Min(100, done * 100 / total);
        var step = interactive ? percent : percent / 10 * 10;
        if (step == _shown)
        {
            return;
        }
        _shown = step;
        var filled = Width * percent / 100;
        var line = string.Create(CultureInfo.InvariantCulture, $"{what} [{new string('#', filled)}{new string('.', Width - filled)}] {percent,3}% {Megabytes(done)}/{Megabytes(total)} MB");
        if (interactive)
        {
            writer.Write('\r' + line);
            if (percent == 100)
            {
                writer.WriteLine();
            }
        }
        else
        {
            writer.WriteLine(line);
        }
    }

    private static string Megabytes(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);
}

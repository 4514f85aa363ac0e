namespace Exchange.Cli.Output;

public enum OutputFormat
{
    Table,
    Json,
    /// <summary>One compact JSON object per line: for streams (subscribe); other commands print JSON.</summary>
    Jsonl,
}

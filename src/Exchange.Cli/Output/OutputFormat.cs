namespace Exchange.Cli.Output;

public enum OutputFormat
{
    Table,
    Json,
}

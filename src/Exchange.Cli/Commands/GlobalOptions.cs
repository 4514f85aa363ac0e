using System.CommandLine;
using Exchange.Cli.Output;

namespace Exchange.Cli.Commands;

/// <summary>Options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Node { get; } = new("--node")
    {
        Description = "Node address, e.g. http://127.0.0.1:5000 (default: $EXCHANGE_NODE, then the last login)",
        Recursive = true,
    };

    public Option<OutputFormat> Output { get; } = new("--output", "-o")
    {
        Description = "table, json, or jsonl (one JSON object per line, for streams)",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public Option<bool> AllowPlainHttp { get; } = new(Connection.PlainHttpRule.Option)
    {
        Description = "send the client secret and tokens to a node over plain http:// on another machine (loopback needs no flag), " +
            $"where TLS ends in front of it on a network you trust; also ${Connection.PlainHttpRule.EnvironmentVariable}=1",
        Recursive = true,
    };

    /// <summary>Whether this run may send credentials over plain HTTP beyond loopback: the option or the environment variable.</summary>
    public bool AllowsPlainHttp(ParseResult parse) => parse.GetValue(AllowPlainHttp) || Connection.PlainHttpRule.AllowedByEnvironment();

    public bool IsJson(ParseResult parse) => parse.GetValue(Output) is OutputFormat.Json or OutputFormat.Jsonl;
}

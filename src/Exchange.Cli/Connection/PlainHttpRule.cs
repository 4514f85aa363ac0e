using System.Net;

namespace Exchange.Cli.Connection;

/// <summary>
/// The CLI sends a node its client secret (token requests) and its access tokens (every call). Over
/// plain http:// they cross the network readable by anyone on the path, so plain HTTP is for this
/// machine only (127.0.0.0/8, ::1, localhost) unless the user says, each time, that TLS ends in front
/// of the node on a network they trust: --allow-plain-http, or EXCHANGE_ALLOW_PLAIN_HTTP=1. The node
/// refuses plain HTTP beyond loopback too, but only once the secret has arrived.
/// </summary>
internal static class PlainHttpRule
{
    public const string Option = "--allow-plain-http";
    public const string EnvironmentVariable = "EXCHANGE_ALLOW_PLAIN_HTTP";

    /// <summary>Whether the environment allows plain HTTP beyond loopback (EXCHANGE_ALLOW_PLAIN_HTTP=1 or true).</summary>
    public static bool AllowedByEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { } value && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <paramref name="node"/> is reached without TLS on another machine.</summary>
    public static bool IsPlainBeyondLoopback(Uri node) =>
        node.Scheme == Uri.UriSchemeHttp
        && !node.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        && !(IPAddress.TryParse(node.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Refuses, before anything is sent, a node that would get credentials in clear.</summary>
    /// <exception cref="CliException">Plain HTTP beyond loopback and not allowed (exit 2, naming the option).</exception>
    public static void Check(Uri node, bool allowed)
    {
        if (IsPlainBeyondLoopback(node) && !allowed)
        {
            throw new CliException(
                $"the node {node} is plain http:// on another machine: the client secret and access tokens would cross the network in clear. " +
                $"Use https://, or, only where TLS ends in front of the node on a network you trust, pass {Option} (or set {EnvironmentVariable}=1)",
                ExitCodes.Usage);
        }
    }
}

using Grpc.Core;
using Grpc.Net.Client;

namespace Exchange.Cli.Connection;

/// <summary>
/// A connection to one node with a valid access token: the cached one, or a new one obtained with
/// the remembered client credentials (or EXCHANGE_CLIENT_ID / EXCHANGE_CLIENT_SECRET).
/// </summary>
internal sealed class NodeSession : IDisposable
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;

    private NodeSession(Uri node, GrpcChannel channel, HttpClient http, string token)
    {
        Node = node;
        Channel = channel;
        _http = http;
        Headers = new Metadata { { "authorization", $"Bearer {token}" } };
    }

    public Uri Node { get; }
    public GrpcChannel Channel { get; }
    public Metadata Headers { get; }

    /// <param name="allowPlainHttp">The user allows credentials over plain HTTP beyond loopback (<see cref="PlainHttpRule"/>).</param>
    /// <exception cref="CliException">No node, not logged in, plain HTTP beyond loopback not allowed, or the token request refused.</exception>
    public static async Task<NodeSession> OpenAsync(CliContext context, string? nodeOption, bool allowPlainHttp, CancellationToken cancellationToken)
    {
        var store = new CredentialStore(context.ConfigDirectory);
        var credentials = store.Load();
        var node = ResolveNode(nodeOption, credentials);
        // Before anything is sent: a stored token, a renewal with the stored secret, or the environment's.
        PlainHttpRule.Check(node, allowPlainHttp);
        var http = CreateHttpClient(context);
        var key = CredentialStore.Key(node);
        credentials.Nodes.TryGetValue(key, out var saved);

        var clientId = Environment.GetEnvironmentVariable("EXCHANGE_CLIENT_ID");
        var clientSecret = Environment.GetEnvironmentVariable("EXCHANGE_CLIENT_SECRET");
        string token;
        if (!string.IsNullOrEmpty(clientId) && !string.IsNullOrEmpty(clientSecret))
        {
            (token, _) = await new TokenClient(http).RequestAsync(node, clientId, clientSecret, [], cancellationToken);
        }
        else if (saved is null)
        {
            throw new CliException($"not logged in to {key}: run `exchange login --node {key} --client-id ID --client-secret SECRET`", ExitCodes.NotAuthorized);
        }
        else if (saved.AccessToken is not null && saved.ExpiresAt - RenewBefore > DateTimeOffset.UtcNow)
        {
            token = saved.AccessToken;
        }
        else
        {
            (token, saved.ExpiresAt) = await new TokenClient(http).RequestAsync(node, saved.ClientId, saved.ClientSecret, saved.Scopes, cancellationToken);
            saved.AccessToken = token;
            store.Save(credentials);
        }
        var channel = GrpcChannel.ForAddress(node, new GrpcChannelOptions
        {
            HttpClient = http,
            DisposeHttpClient = false,
            MaxReceiveMessageSize = 16 * 1024 * 1024,
            // No limit of our own on what is sent: the node judges, and says the size and its limit.
            MaxSendMessageSize = null,
        });
        return new NodeSession(node, channel, http, token);
    }

    public static Uri ResolveNode(string? nodeOption, Credentials credentials)
    {
        var text = nodeOption ?? Environment.GetEnvironmentVariable("EXCHANGE_NODE") ?? credentials.DefaultNode
            ?? throw new CliException("no node given: use --node URL, set EXCHANGE_NODE, or log in first", ExitCodes.Usage);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"--node: '{text}' is not an http:// or https:// address", ExitCodes.Usage);
        }
        return uri;
    }

    public static HttpClient CreateHttpClient(CliContext context) =>
        new(context.HttpHandlerFactory?.Invoke() ?? new SocketsHttpHandler { EnableMultipleHttp2Connections = true }, disposeHandler: true)
        {
            Timeout = TimeSpan.FromMinutes(5),
        };

    public void Dispose()
    {
        Channel.Dispose();
        _http.Dispose();
    }
}

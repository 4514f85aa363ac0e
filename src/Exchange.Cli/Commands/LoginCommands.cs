using System.CommandLine;
using Exchange.Cli.Connection;

namespace Exchange.Cli.Commands;

internal static class LoginCommands
{
    public static IEnumerable<Command> Create(CommandRunner runner, GlobalOptions global)
    {
        var clientId = new Option<string>("--client-id") { Description = "OAuth client id issued by the node's operator", Required = true };
        var clientSecret = new Option<string?>("--client-secret") { Description = "client secret (default: $EXCHANGE_CLIENT_SECRET)" };
        var scopes = new Option<string[]>("--scope") { Description = "scopes to ask for (default: every scope the client holds)", AllowMultipleArgumentsPerToken = true };
        var login = new Command("login", "Get an access token from a node with client credentials and remember them for this node")
        {
            clientId, clientSecret, scopes,
        };
        login.SetAction((parse, ct) => runner.RunAsync(async token =>
        {
            var store = new CredentialStore(runner.Context.ConfigDirectory);
            var credentials = store.Load();
            var node = NodeSession.ResolveNode(parse.GetValue(global.Node), credentials);
            PlainHttpRule.Check(node, global.AllowsPlainHttp(parse));
            var secret = parse.GetValue(clientSecret) ?? Environment.GetEnvironmentVariable("EXCHANGE_CLIENT_SECRET")
                ?? throw new CliException("--client-secret: required (or set EXCHANGE_CLIENT_SECRET)", ExitCodes.Usage);
            var requested = parse.GetValue(scopes) ?? [];
            using var http = NodeSession.CreateHttpClient(runner.Context);
            var (accessToken, expiresAt) = await new TokenClient(http).RequestAsync(node, parse.GetValue(clientId)!, secret, requested, token);
            credentials.Nodes[CredentialStore.Key(node)] = new NodeCredential
            {
                ClientId = parse.GetValue(clientId)!,
                ClientSecret = secret,
                Scopes = [.. requested],
                AccessToken = accessToken,
                ExpiresAt = expiresAt,
            };
            credentials.DefaultNode = CredentialStore.Key(node);
            store.Save(credentials);
            await runner.Context.Out.WriteLineAsync($"logged in to {CredentialStore.Key(node)} as {parse.GetValue(clientId)}; token valid until {expiresAt:u}");
        }, ct));

        var all = new Option<bool>("--all") { Description = "forget every node" };
        var logout = new Command("logout", "Forget the credentials and token kept for a node") { all };
        logout.SetAction((parse, ct) => runner.RunAsync(async _ =>
        {
            var store = new CredentialStore(runner.Context.ConfigDirectory);
            var credentials = parse.GetValue(all) ? new Credentials() : store.Load();
            if (!parse.GetValue(all))
            {
                var node = NodeSession.ResolveNode(parse.GetValue(global.Node), credentials);
                credentials.Nodes.Remove(CredentialStore.Key(node));
                if (credentials.DefaultNode == CredentialStore.Key(node))
                {
                    credentials.DefaultNode = null;
                }
            }
            store.Save(credentials);
            await runner.Context.Out.WriteLineAsync("logged out");
        }, ct));
        return [login, logout];
    }
}

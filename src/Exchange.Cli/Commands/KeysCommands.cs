using System.CommandLine;
using Exchange.Cli.Output;
using Exchange.V1;

namespace Exchange.Cli.Commands;

internal static class KeysCommands
{
    public static Command Create(CommandRunner runner, GlobalOptions global)
    {
        var export = new Command("export", "Print the node's public signing and encryption keys, for the network manifest (needs network:admin)");
        export.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var keys = await new NetworkService.NetworkServiceClient(session.Channel).GetNodeKeysAsync(new GetNodeKeysRequest(), session.Headers, cancellationToken: token);
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(keys));
                return;
            }
            TableWriter.WriteFields(runner.Context.Out, [("institute", keys.InstituteId), ("signingKey", keys.SigningKey), ("encryptionKey", keys.EncryptionKey)]);
        }, ct));
        return new Command("keys", "The node's own keys") { export };
    }
}

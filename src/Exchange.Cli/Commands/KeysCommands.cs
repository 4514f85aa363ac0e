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
        var institute = new Option<string>("--institute") { Description = "the institute the keys are for (printed with the public keys)", Required = true };
        var output = new Option<string>("--out") { Description = "where to write the private keys (JSON, mode 0600); never overwritten", Required = true };
        var generate = new Command("generate", "Make a new signing and encryption key pair offline: the private keys to a file a node imports on first start (Node:InitialKeysPath), the public keys printed for the manifest")
        {
            institute, output,
        };
        generate.SetAction((parse, ct) => runner.RunAsync(async _ =>
        {
            var path = parse.GetValue(output)!;
            var keys = Exchange.Envelopes.InstituteKeyPairs.Generate();
            try
            {
                keys.WritePrivateKeys(path, overwrite: false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new CliException($"--out: '{path}' exists; it may be the only copy of a node's keys, so it is never overwritten ({e.Message})", ExitCodes.InvalidInput);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--out: cannot write '{path}': {e.Message}", ExitCodes.InvalidInput);
            }
            var publicKeys = new GetNodeKeysResponse
            {
                InstituteId = parse.GetValue(institute)!,
                SigningKey = Convert.ToBase64String(keys.SigningPublicKey),
                EncryptionKey = Convert.ToBase64String(keys.EncryptionPublicKey),
            };
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(publicKeys));
                return;
            }
            TableWriter.WriteFields(runner.Context.Out, [("institute", publicKeys.InstituteId), ("signingKey", publicKeys.SigningKey), ("encryptionKey", publicKeys.EncryptionKey), ("privateKeys", path)]);
        }, ct));
        return new Command("keys", "The node's own keys") { export, generate };
    }
}

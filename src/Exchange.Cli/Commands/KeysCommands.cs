using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Exchange.Envelopes;
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
        var certificateOut = new Option<string>("--out") { Description = "where to write the certificate and its private key (one PEM file, mode 0600); never overwritten", Required = true };
        var certificate = new Command("data-protection-certificate",
            "Make a node's key-encryption key: a self-signed RSA-3072 certificate and its private key, for DataProtection:CertificatePath. " +
            "It encrypts the node's Data Protection key ring; keep a copy with the database's backups, which cannot be read without it")
        {
            certificateOut,
        };
        certificate.SetAction((parse, ct) => runner.RunAsync(async _ =>
        {
            var path = parse.GetValue(certificateOut)!;
            X509Certificate2 made;
            try
            {
                made = KeyEncryptionCertificate.Write(path, overwrite: false);
            }
            catch (IOException e) when (File.Exists(path))
            {
                throw new CliException($"--out: '{path}' exists; it may be the only key that opens a node's database, so it is never overwritten ({e.Message})", ExitCodes.InvalidInput);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"--out: cannot write '{path}': {e.Message}", ExitCodes.InvalidInput);
            }
            using (made)
            {
                var thumbprint = made.GetCertHashString(HashAlgorithmName.SHA256);
                if (global.IsJson(parse))
                {
                    await runner.Context.Out.WriteLineAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["path"] = path, ["sha256"] = thumbprint }));
                    return;
                }
                TableWriter.WriteFields(runner.Context.Out, [("certificate", path), ("sha256", thumbprint), ("setting", $"DataProtection:CertificatePath={Path.GetFullPath(path)}")]);
            }
        }, ct));
        return new Command("keys", "The node's own keys") { export, generate, certificate };
    }
}

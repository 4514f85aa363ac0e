using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain.Network;

namespace Exchange.Cli.Commands;

internal static class BrokerCommands
{
    public static Command Create(CommandRunner runner)
    {
        var manifest = new Option<string>("--manifest") { Description = "the network manifest", Required = true };
        var vhost = new Option<string>("--vhost") { Description = "RabbitMQ virtual host", DefaultValueFactory = _ => "exchange" };
        var prefix = new Option<string>("--user-prefix") { Description = "broker user names are this prefix plus the institute id", DefaultValueFactory = _ => "exchange-" };
        var credentials = new Option<string?>("--credentials-out") { Description = "write the generated broker passwords here (mode 0600)" };
        var definitions = new Command("definitions", "RabbitMQ definitions for a manifest: vhost, quorum inbox queues, deliveries exchanges, one user per institute that may read only its own queues")
        {
            manifest, vhost, prefix, credentials,
        };
        definitions.SetAction((parse, ct) => runner.RunAsync(async _ =>
        {
            NetworkManifest loaded;
            try
            {
                loaded = ManifestLoader.LoadFile(parse.GetValue(manifest)!);
            }
            catch (ManifestException e)
            {
                throw new CliException($"--manifest: {e.Message}", ExitCodes.InvalidInput);
            }
            var generated = BrokerTopology.NewCredentials(loaded, parse.GetValue(prefix)!);
            var document = BrokerTopology.Definitions(loaded, parse.GetValue(vhost)!, generated);
            await runner.Context.Out.WriteLineAsync(document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            if (parse.GetValue(credentials) is { } path)
            {
                var json = new JsonObject();
                foreach (var c in generated)
                {
                    json[c.InstituteId] = new JsonObject { ["username"] = c.Username, ["password"] = c.Password };
                }
                OutputFiles.WriteAllText("--credentials-out", path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            }
        }, ct));
        return new Command("broker", "Broker set-up derived from the manifest") { definitions };
    }
}

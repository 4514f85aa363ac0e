using System.CommandLine;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.V1;

namespace Exchange.Cli.Commands;

internal static class NetworkCommands
{
    public static Command Create(CommandRunner runner, GlobalOptions global)
    {
        var show = new Command("show", "Institutes, groups and agreements as the node sees them");
        show.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var client = new NetworkService.NetworkServiceClient(session.Channel);
            var network = await client.GetNetworkAsync(new GetNetworkRequest(), session.Headers, cancellationToken: token);
            var o = runner.Context.Out;
            if (global.IsJson(parse))
            {
                await o.WriteLineAsync(ProtoJson.Format(network));
                return;
            }
            await o.WriteLineAsync($"{network.Name} — seen from {network.SelfInstitute}; manifest sha256 {network.ManifestSha256}");
            await o.WriteLineAsync();
            TableWriter.Write(o, ["INSTITUTE", "NAME", "JURISDICTION", "COMMUNITY", "QUEUE"],
                network.Institutes.Select(i => (IReadOnlyList<string>)[i.Id + (i.Id == network.SelfInstitute ? " (this node)" : ""), i.Name, i.Jurisdiction, i.CommunityMember ? "yes" : "no", i.BrokerQueue]));
            await o.WriteLineAsync();
            TableWriter.Write(o, ["GROUP", "NAME", "MEMBERS"],
                network.Groups.Select(g => (IReadOnlyList<string>)[g.Id + (g.Id == network.CommunityGroup ? " (community)" : ""), g.Name, string.Join(", ", g.Members)]));
            await o.WriteLineAsync();
            TableWriter.Write(o, ["AGREEMENT", "PARTIES", "UP TO", "RISK DOMAINS", "VALID", "IN FORCE"],
                network.Agreements.Select(a => (IReadOnlyList<string>)
                [
                    a.Id, string.Join("–", a.Parties), a.MaxLabel.Name(),
                    a.RiskDomains.Count == 0 ? "all" : string.Join(", ", a.RiskDomains.Select(d => d.Name())),
                    $"{a.ValidFrom.ToDateTimeOffset():yyyy-MM-dd} to {a.ValidTo.ToDateTimeOffset():yyyy-MM-dd}",
                    a.InForce ? "yes" : "no",
                ]));
        }, ct));
        return new Command("network", "The network manifest as a node loaded it") { show };
    }
}

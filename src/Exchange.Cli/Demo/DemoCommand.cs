using System.CommandLine;
using Exchange.Cli.Commands;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Cli.Demo;

/// <summary>
/// <c>exchange demo</c>: three institutes in this process share findings with different labels and
/// audiences; the demo prints each decision with its reason, waits until every allowed recipient has
/// acknowledged, withdraws one finding everywhere, and shows what each institute holds.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(CommandRunner runner)
    {
        var keep = new Option<bool>("--keep") { Description = "keep the demo's folder (SQLite files, manifest) instead of deleting it" };
        var command = new Command("demo", "Run a three-institute exchange in this process and show who received what, and why") { keep };
        command.SetAction((parse, ct) => runner.RunAsync(token => RunAsync(runner.Context.Out, parse.GetValue(keep), token), ct));
        return command;
    }

    private static async Task RunAsync(TextWriter o, bool keep, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-demo", Guid.NewGuid().ToString("N")[..8]);
        await o.WriteLineAsync($"Starting three nodes (uk, us, jp) in this process; data in {directory}");
        await o.WriteLineAsync("Agreements: uk–us up to RED for every risk domain; uk–jp up to AMBER for cyber only; us–jp none.");
        try
        {
            await using var network = await DemoNetwork.StartAsync(directory);
            var submitted = new List<(string Origin, string Id)>();
            var steps = new (string Origin, SubmitFindingRequest Request)[]
            {
                ("uk", DemoFindings.Make("Refusal rates drop in low-resource languages", "Harmful requests phrased in low-resource languages are refused a third less often.",
                    TlpLevel.Green, RiskDomain.Multilingual, EvaluationMethod.AutomatedCapability, "multilingual_refusals", "refusal_rate", 0.61, [], ["network"])),
                ("uk", DemoFindings.Make("Uplift on capture-the-flag tasks", "The model solved 7 of 40 professional CTF challenges unaided.",
                    TlpLevel.Amber, RiskDomain.Cyber, EvaluationMethod.AutomatedCapability, "cybench", "accuracy", 0.175, ["us", "jp"], [])),
                ("uk", DemoFindings.Make("Wet-lab protocol troubleshooting", "Expert-level troubleshooting of a restricted protocol in 3 of 10 cases.",
                    TlpLevel.Amber, RiskDomain.ChemBio, EvaluationMethod.HumanUplift, "protocol_qa", "expert_agreement", 0.3, ["us", "jp"], [])),
                ("uk", DemoFindings.Make("Working exploit chain found in red teaming", "Red teamers obtained a working exploit chain for a widely deployed service.",
                    TlpLevel.Red, RiskDomain.Cyber, EvaluationMethod.RedTeaming, "red_team_cyber", "success", 1, ["us"], ["network"])),
                ("us", DemoFindings.Make("Autonomous replication attempts", "In 2 of 50 agent runs the model tried to copy its weights.",
                    TlpLevel.Amber, RiskDomain.Autonomy, EvaluationMethod.Agent, "self_replication", "attempt_rate", 0.04, ["uk", "jp"], [])),
                ("uk", DemoFindings.Make("Jailbreak transfer (embargoed until release)", "Last version's jailbreaks still work 12% of the time; held until the model's public release.",
                    TlpLevel.Amber, RiskDomain.Cyber, EvaluationMethod.RedTeaming, "jailbreak_transfer", "attack_success_rate", 0.12, ["us"], [], DateTimeOffset.UtcNow.AddSeconds(3))),
            };
            foreach (var (origin, request) in steps)
            {
                if (request.Policy.EmbargoUntil is not null)
                {
                    // Three seconds from now, not from when the list was built: long enough to see it held.
                    request.Policy.EmbargoUntil = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(3));
                }
                var node = network.Nodes[origin];
                var response = await new FindingService.FindingServiceClient(node.Channel).SubmitFindingAsync(request, await node.AuthAsync(), cancellationToken: cancellationToken);
                submitted.Add((origin, response.Finding.Id));
                var audience = string.Join(", ", request.Policy.RecipientInstitutes.Concat(request.Policy.RecipientGroups.Select(g => $"group {g}")));
                await o.WriteLineAsync();
                await o.WriteLineAsync($"{origin} submits {request.Label.Level.Name()} [{request.Content.Evaluation.RiskDomain.Name()}] \"{request.Content.Title}\" for {audience}"
                    + (request.Policy.EmbargoUntil is null ? "" : $", embargoed until {FindingView.Time(request.Policy.EmbargoUntil)}"));
                FindingView.WriteDecisions(o, response.Decisions);
            }

            await o.WriteLineAsync();
            await o.WriteLineAsync("Waiting until every allowed recipient has acknowledged (the embargoed finding is released after 3 seconds)...");
            foreach (var (origin, id) in submitted)
            {
                await SettleAsync(network.Nodes[origin], id, cancellationToken);
            }
            await o.WriteLineAsync();
            await o.WriteLineAsync("Delivery, as each origin recorded it from the recipients' signed receipts:");
            var deliveries = new List<IReadOnlyList<string>>();
            foreach (var (origin, id) in submitted)
            {
                var node = network.Nodes[origin];
                var finding = await new FindingService.FindingServiceClient(node.Channel).GetFindingAsync(new GetFindingRequest { Id = id }, await node.AuthAsync(), cancellationToken: cancellationToken);
                deliveries.Add([origin, finding.Finding.Label.Level.Name(), Short(finding.Finding.Content.Title),
                    string.Join(", ", finding.Decisions.Select(d => $"{d.InstituteId}: {FindingViewDelivery(d)}"))]);
            }
            TableWriter.Write(o, ["FROM", "LABEL", "FINDING", "DELIVERY"], deliveries);

            var (withdrawOrigin, withdrawId) = submitted[0];
            await o.WriteLineAsync();
            await o.WriteLineAsync($"{withdrawOrigin} withdraws \"{Short(steps[0].Request.Content.Title)}\"; the withdrawal goes to everyone who received it.");
            var originNode = network.Nodes[withdrawOrigin];
            await new FindingService.FindingServiceClient(originNode.Channel).WithdrawFindingAsync(new WithdrawFindingRequest { Id = withdrawId, Reason = "scorer misconfigured" }, await originNode.AuthAsync(), cancellationToken: cancellationToken);
            await WaitWithdrawnAsync(network, withdrawId, cancellationToken);

            await o.WriteLineAsync();
            await o.WriteLineAsync("What each institute now holds (its own findings and those it received):");
            var holdings = new List<IReadOnlyList<string>>();
            foreach (var (id, node) in network.Nodes)
            {
                var list = await new FindingService.FindingServiceClient(node.Channel).ListFindingsAsync(
                    new ListFindingsRequest { IncludeWithdrawn = true, PageSize = 100 }, await node.AuthAsync(), cancellationToken: cancellationToken);
                foreach (var f in list.Findings.OrderBy(f => f.SubmittedAt))
                {
                    holdings.Add([id, f.OriginInstitute == id ? "own" : $"from {f.OriginInstitute}", f.Label.Name(), f.State == FindingState.Withdrawn ? "withdrawn" : "active", Short(f.Title)]);
                }
            }
            TableWriter.Write(o, ["INSTITUTE", "SOURCE", "LABEL", "STATE", "FINDING"], holdings);
            await o.WriteLineAsync();
            await VerifyAuditLogsAsync(o, network, cancellationToken);
            await o.WriteLineAsync();
            await o.WriteLineAsync("Demo complete: every envelope was signed by its origin, sealed to its one recipient, re-checked by the recipient against its own agreements, and answered with a signed receipt.");
        }
        finally
        {
            if (!keep)
            {
                TryDelete(directory);
            }
        }
    }

    /// <summary>
    /// Waits until each node's latest checkpoint is cosigned by the peers it disclosed to, then
    /// downloads every log and recomputes it here against the manifest's keys.
    /// </summary>
    private static async Task VerifyAuditLogsAsync(TextWriter o, DemoNetwork network, CancellationToken cancellationToken)
    {
        await o.WriteLineAsync("Audit logs: each node's Merkle log, downloaded and recomputed here against the manifest's keys;");
        await o.WriteLineAsync("peers the node disclosed to have verified its checkpoints are consistent and cosigned them:");
        var manifest = Domain.Network.ManifestLoader.LoadFile(network.ManifestPath);
        var expectedWitnesses = new Dictionary<string, int> { ["uk"] = 2, ["us"] = 1, ["jp"] = 0 };
        var rows = new List<IReadOnlyList<string>>();
        foreach (var (id, node) in network.Nodes)
        {
            var client = new AuditService.AuditServiceClient(node.Channel);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    var latest = await client.GetCheckpointAsync(new GetCheckpointRequest(), await node.AuthAsync(), cancellationToken: cancellationToken);
                    if (latest.CosignedBy.Count >= expectedWitnesses[id])
                    {
                        break;
                    }
                }
                catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
                {
                }
                await Task.Delay(200, cancellationToken);
            }
            var (entries, checkpoints, _) = await Commands.AuditExport.ReadAsync(client, await node.AuthAsync(), cancellationToken);
            using var key = System.Security.Cryptography.ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(manifest.InstitutesById[id].SigningKey, out _);
            var witnesses = manifest.Institutes.Where(i => i.Id != id).Select(i => Transparency.NoteKey.FromPublicKey(Domain.Audit.AuditLogFormat.Origin(i.Id), i.SigningKey));
            var result = Domain.Audit.AuditLogVerifier.Verify(id, key, entries, checkpoints, witnesses);
            if (!result.Ok)
            {
                throw new CliException($"the audit log of {id} does not verify: {string.Join("; ", result.Problems)}");
            }
            rows.Add([id, result.Entries.ToString(System.Globalization.CultureInfo.InvariantCulture), result.CheckpointsVerified.ToString(System.Globalization.CultureInfo.InvariantCulture),
                result.CosignedUpTo.Count == 0 ? "none (disclosed to no one)" : string.Join(", ", result.CosignedUpTo.Select(w => $"{w.Key.Split('/')[1]} up to {w.Value}")), "verified"]);
        }
        TableWriter.Write(o, ["LOG", "ENTRIES", "CHECKPOINTS", "WITNESSED BY", "RESULT"], rows);
    }

    private static string FindingViewDelivery(DisclosureDecision d) => d.Outcome switch
    {
        DisclosureOutcome.Deny => "denied",
        _ => d.Delivery switch
        {
            DeliveryState.Acknowledged => "acknowledged",
            DeliveryState.Refused => "refused by recipient",
            DeliveryState.Held => "held",
            _ => d.Delivery.ToString().ToLowerInvariant(),
        },
    };

    private static async Task SettleAsync(DemoNode origin, string id, CancellationToken cancellationToken)
    {
        var client = new FindingService.FindingServiceClient(origin.Channel);
        var deadline = DateTime.UtcNow + SettleTimeout;
        while (true)
        {
            var finding = await client.GetFindingAsync(new GetFindingRequest { Id = id }, await origin.AuthAsync(), cancellationToken: cancellationToken);
            if (finding.Decisions.All(d => d.Outcome == DisclosureOutcome.Deny || d.Delivery is DeliveryState.Acknowledged or DeliveryState.Refused))
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new CliException($"finding {id} was not acknowledged by every allowed recipient within {SettleTimeout.TotalSeconds}s");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task WaitWithdrawnAsync(DemoNetwork network, string id, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + SettleTimeout;
        foreach (var node in network.Nodes.Values)
        {
            var client = new FindingService.FindingServiceClient(node.Channel);
            while (true)
            {
                var list = await client.ListFindingsAsync(new ListFindingsRequest { IncludeWithdrawn = true, PageSize = 100 }, await node.AuthAsync(), cancellationToken: cancellationToken);
                if (list.Findings.Where(f => f.Id == id).All(f => f.State == FindingState.Withdrawn))
                {
                    break;
                }
                if (DateTime.UtcNow > deadline)
                {
                    throw new CliException($"the withdrawal of {id} did not reach {node.InstituteId} within {SettleTimeout.TotalSeconds}s");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private static string Short(string text) => Exchange.Domain.Text.TextCut.Clip(text, 48);

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

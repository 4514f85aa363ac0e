using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Cli.Connection;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.Domain.Audit;
using Exchange.Domain.Network;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary>
/// What an auditor runs. Proofs and whole logs are verified here, on the auditor's machine, against
/// keys from the manifest: the node is asked for data, never trusted for the answer.
/// </summary>
internal static class AuditCommands
{
    public const int VerificationFailed = 7;

    public static Command Create(CommandRunner runner, GlobalOptions global) =>
        new("audit", "Query the audit log, get checkpoints and proofs, export it and verify it")
        {
            Query(runner, global), Checkpoint(runner, global), Proof(runner, global), Consistency(runner, global), Export(runner), Verify(runner),
        };

    private static Command Query(CommandRunner runner, GlobalOptions global)
    {
        var finding = new Option<string?>("--finding") { Description = "finding id" };
        var institute = new Option<string?>("--institute") { Description = "the other institute (recipient or origin)" };
        var kinds = new Option<string[]>("--kind") { Description = "event kind, e.g. DisclosureSent (repeatable)", AllowMultipleArgumentsPerToken = true };
        var since = new Option<DateTimeOffset?>("--since") { Description = "at or after (ISO 8601)" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "before (ISO 8601)" };
        var all = new Option<bool>("--all") { Description = "follow every page" };
        var command = new Command("list", "List audit entries (needs audit:read)") { finding, institute, kinds, since, until, all };
        command.Aliases.Add("query");
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var request = new QueryAuditRequest
            {
                FindingId = parse.GetValue(finding) ?? "",
                Institute = parse.GetValue(institute) ?? "",
                From = parse.GetValue(since) is { } s ? Timestamp.FromDateTimeOffset(s) : null,
                To = parse.GetValue(until) is { } u ? Timestamp.FromDateTimeOffset(u) : null,
                PageSize = 500,
            };
            foreach (var kind in parse.GetValue(kinds) ?? [])
            {
                request.Kinds.Add(System.Enum.TryParse<AuditEventKind>(kind.Replace("_", ""), ignoreCase: true, out var parsed) && parsed != AuditEventKind.Unspecified
                    ? parsed
                    : throw new CliException($"--kind: '{kind}' is not one of {string.Join(", ", System.Enum.GetNames<AuditEventKind>().Skip(1))}", ExitCodes.Usage));
            }
            var client = new AuditService.AuditServiceClient(session.Channel);
            var records = new List<AuditRecord>();
            QueryAuditResponse page;
            do
            {
                page = await client.QueryAsync(request, session.Headers, cancellationToken: token);
                records.AddRange(page.Records);
                request.PageToken = page.NextPageToken;
            }
            while (parse.GetValue(all) && page.NextPageToken.Length > 0);
            if (global.IsJson(parse))
            {
                ProtoJson.WriteArray(runner.Context.Out, records);
                return;
            }
            TableWriter.Write(runner.Context.Out, ["INDEX", "TIME", "EVENT", "FINDING", "V", "LABEL", "INSTITUTE", "ACTOR", "DETAIL"],
                records.Select(r => (IReadOnlyList<string>)
                [
                    r.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), FindingView.Time(r.Entry.Event.OccurredAt), r.Entry.Event.Kind.ToString(),
                    r.Entry.Event.FindingId, r.Entry.Event.FindingVersion == 0 ? "" : r.Entry.Event.FindingVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    r.Entry.Event.Label == TlpLevel.Unspecified ? "" : r.Entry.Event.Label.Name(), r.Entry.Event.Counterparty, r.Entry.Event.Actor,
                    string.Join("; ", new[] { string.Join(",", r.Entry.Event.Reasons.Select(x => x.Code + (x.AgreementId.Length > 0 ? $"[{x.AgreementId}]" : ""))), r.Entry.Event.Detail }.Where(x => x.Length > 0)),
                ]));
            if (page.Pending > 0)
            {
                await runner.Context.Out.WriteLineAsync($"{Environment.NewLine}{page.Pending} recorded events are not yet in the tree (they will be within a second or so)");
            }
        }, ct));
        return command;
    }

    private static Command Checkpoint(CommandRunner runner, GlobalOptions global)
    {
        var fresh = new Option<bool>("--fresh") { Description = "ask the node to sign a checkpoint of the log as it stands" };
        var output = new Option<string?>("--out") { Description = "also save the signed note to this file, to check the log against later" };
        var command = new Command("checkpoint", "The latest signed checkpoint, with its witnesses' cosignatures") { fresh, output };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var checkpoint = await new AuditService.AuditServiceClient(session.Channel).GetCheckpointAsync(new GetCheckpointRequest { Fresh = parse.GetValue(fresh) }, session.Headers, cancellationToken: token);
            if (parse.GetValue(output) is { } path)
            {
                OutputFiles.WriteAllText("--out", path, checkpoint.Note);
            }
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(checkpoint));
                return;
            }
            await runner.Context.Out.WriteAsync(checkpoint.Note);
        }, ct));
        return command;
    }

    private static Command Proof(CommandRunner runner, GlobalOptions global)
    {
        var index = new Option<long>("--entry", "--index") { Description = "entry index", Required = true };
        var manifest = new Option<string?>("--manifest") { Description = "trust the log key from this manifest instead of asking the node" };
        var command = new Command("prove", "Get an inclusion proof for an entry and verify it here against the signed checkpoint") { index, manifest };
        command.Aliases.Add("proof");
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var client = new AuditService.AuditServiceClient(session.Channel);
            var trust = await TrustAsync(session, parse.GetValue(manifest), null, token);
            var checkpoint = await client.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, session.Headers, cancellationToken: token);
            var signed = VerifiedCheckpoint(checkpoint.Note, trust);
            var proof = await client.GetInclusionProofAsync(new GetInclusionProofRequest { Index = (ulong)parse.GetValue(index), TreeSize = (ulong)signed.Size }, session.Headers, cancellationToken: token);
            var leaf = MerkleHash.Leaf(proof.Record.EntryBytes.Span);
            if (!ProofVerifier.VerifyInclusion((long)proof.Index, signed.Size, leaf, [.. proof.Proof.Select(p => p.ToByteArray())], signed.RootHash, out var problem))
            {
                throw new CliException($"entry {proof.Index} is NOT proven in the log of size {signed.Size}: {problem}", VerificationFailed);
            }
            await runner.Context.Out.WriteLineAsync($"entry {proof.Index} ({proof.Record.Entry.Event.Kind}) is included in {trust.Origin} at size {signed.Size}, root {Convert.ToBase64String(signed.RootHash)}: verified");
        }, ct));
        return command;
    }

    private static Command Consistency(CommandRunner runner, GlobalOptions global)
    {
        var from = new Option<long>("--from") { Description = "an earlier size you hold a checkpoint for", Required = true };
        var root = new Option<string?>("--root") { Description = "the base64 root you hold for that size (default: the node's own checkpoint of that size)" };
        var manifest = new Option<string?>("--manifest") { Description = "trust the log key from this manifest instead of asking the node" };
        var command = new Command("consistency", "Prove that the log now extends an earlier checkpoint without rewriting it") { from, root, manifest };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var client = new AuditService.AuditServiceClient(session.Channel);
            var trust = await TrustAsync(session, parse.GetValue(manifest), null, token);
            var latest = VerifiedCheckpoint((await client.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, session.Headers, cancellationToken: token)).Note, trust);
            var first = parse.GetValue(from);
            var firstRoot = parse.GetValue(root) is { } given
                ? Convert.FromBase64String(given)
                : VerifiedCheckpoint((await client.GetCheckpointAsync(new GetCheckpointRequest { Size = (ulong)first }, session.Headers, cancellationToken: token)).Note, trust).RootHash;
            var proof = await client.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstSize = (ulong)first, SecondSize = (ulong)latest.Size }, session.Headers, cancellationToken: token);
            if (!ProofVerifier.VerifyConsistency(first, latest.Size, firstRoot, latest.RootHash, [.. proof.Proof.Select(p => p.ToByteArray())], out var problem))
            {
                throw new CliException($"the log at size {latest.Size} is NOT consistent with size {first}: {problem}", VerificationFailed);
            }
            await runner.Context.Out.WriteLineAsync($"{trust.Origin} at size {latest.Size} extends size {first} unchanged: verified");
        }, ct));
        return command;
    }

    private static Command Export(CommandRunner runner)
    {
        var output = new Option<string>("--out") { Description = "file to write (JSON lines)", Required = true };
        var command = new Command("export", "Download the whole log and its checkpoints for offline verification") { output };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            // The log names its institute: an auditor with audit:read alone needs nothing else.
            var (entries, checkpoints, origin) = await DownloadAsync(session, token);
            var institute = AuditLogFormat.InstituteOf(origin) ?? throw new CliException($"the node's log is named '{origin}', which is not an exchange audit log", ExitCodes.Failure);
            await OutputFiles.WriteAsync("--out", parse.GetValue(output)!, async (stream, ct) =>
            {
                await using var file = new StreamWriter(stream, leaveOpen: true);
                await file.WriteLineAsync(new JsonObject { ["log"] = origin, ["institute"] = institute }.ToJsonString());
                foreach (var (index, bytes) in entries)
                {
                    await file.WriteLineAsync(new JsonObject { ["index"] = index, ["entry"] = Convert.ToBase64String(bytes) }.ToJsonString());
                }
                await file.WriteLineAsync(new JsonObject { ["checkpoints"] = new JsonArray(checkpoints.Select(c => (JsonNode)c).ToArray()) }.ToJsonString());
            }, token);
            await runner.Context.Out.WriteLineAsync($"exported {entries.Count} entries and {checkpoints.Count} checkpoints of {origin} to {parse.GetValue(output)}");
        }, ct));
        return command;
    }

    private static Command Verify(CommandRunner runner)
    {
        var export = new Option<string?>("--export") { Description = "verify this exported file instead of a node" };
        var manifest = new Option<string?>("--manifest") { Description = "the network manifest whose keys to trust (recommended; without it the node's own view is used)" };
        var institute = new Option<string?>("--institute") { Description = "whose log it is (default: from the node or the export)" };
        var checkpointFiles = new Option<string[]>("--checkpoint") { Description = "signed checkpoint notes you kept (from `audit checkpoint --out`, or a witness): the log must match them too", AllowMultipleArgumentsPerToken = true };
        var command = new Command("verify", "Recompute the whole log and check it against the signed checkpoints; name any entry edited, deleted, reordered or truncated")
        {
            export, manifest, institute, checkpointFiles,
        };
        command.SetAction((parse, ct) => runner.RunAsync(async token =>
        {
            List<(long Index, byte[] Bytes)> entries;
            List<string> checkpoints;
            Trust trust;
            if (parse.GetValue(export) is { } path)
            {
                (entries, checkpoints, var exportedInstitute) = ReadExport(path);
                var manifestPath = parse.GetValue(manifest) ?? throw new CliException("--manifest: required with --export (the keys to trust)", ExitCodes.Usage);
                trust = Trust.FromManifest(LoadManifest(manifestPath), parse.GetValue(institute) ?? exportedInstitute);
            }
            else
            {
                using var session = await NodeSession.OpenAsync(runner.Context, parse.GetValue(runner.Global.Node), runner.Global.AllowsPlainHttp(parse), token);
                try
                {
                    trust = await TrustAsync(session, parse.GetValue(manifest), parse.GetValue(institute), token);
                    (entries, checkpoints, _) = await DownloadAsync(session, token);
                }
                catch (RpcException e)
                {
                    throw e.ToCliException(session.Node);
                }
            }
            foreach (var file in parse.GetValue(checkpointFiles) ?? [])
            {
                try
                {
                    checkpoints.Add(await File.ReadAllTextAsync(file, token));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new CliException($"--checkpoint: cannot read '{file}': {e.Message}", ExitCodes.InvalidInput);
                }
            }
            var result = AuditLogVerifier.Verify(trust.Institute, trust.LogKey, entries, checkpoints, trust.Witnesses);
            var o = runner.Context.Out;
            if (!result.Ok)
            {
                throw new CliException($"the audit log of {trust.Origin} does NOT verify:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", result.Problems), VerificationFailed);
            }
            await o.WriteLineAsync($"{trust.Origin}: {result.Entries} entries verified against {result.CheckpointsVerified} signed checkpoints (latest size {result.LatestCheckpointSize})"
                + (result.CosignedUpTo.Count > 0
                    ? "; witnessed by " + string.Join(", ", result.CosignedUpTo.Select(w => $"{w.Key} (up to size {w.Value})"))
                    : "; no witness has cosigned a checkpoint yet"));
            if (result.Entries > result.LatestCheckpointSize)
            {
                await o.WriteLineAsync($"{result.Entries - result.LatestCheckpointSize} entries are newer than the latest checkpoint: their chain checks out; a checkpoint will cover them");
            }
        }, ct));
        return command;
    }

    private static async Task<(List<(long, byte[])> Entries, List<string> Checkpoints, string Origin)> DownloadAsync(NodeSession session, CancellationToken token)
    {
        var client = new AuditService.AuditServiceClient(session.Channel);
        // A fresh checkpoint first, so that every entry exported is covered by a signature.
        try
        {
            await client.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, session.Headers, cancellationToken: token);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // An empty log has nothing to sign (an institute nothing was ever sent to): the export
            // below is then empty too, and an empty log with no checkpoint verifies as empty.
        }
        return await AuditExport.ReadAsync(client, session.Headers, token);
    }

    private static (List<(long, byte[])> Entries, List<string> Checkpoints, string Institute) ReadExport(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"--export: cannot read '{path}': {e.Message}", ExitCodes.InvalidInput);
        }
        try
        {
            var header = JsonNode.Parse(lines[0])!;
            var entries = new List<(long, byte[])>();
            var checkpoints = new List<string>();
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var json = JsonNode.Parse(line)!;
                if (json["checkpoints"] is JsonArray notes)
                {
                    checkpoints.AddRange(notes.Select(n => n!.GetValue<string>()));
                }
                else
                {
                    entries.Add((json["index"]!.GetValue<long>(), Convert.FromBase64String(json["entry"]!.GetValue<string>())));
                }
            }
            return (entries, checkpoints, header["institute"]!.GetValue<string>());
        }
        catch (Exception e) when (e is JsonException or FormatException or NullReferenceException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new CliException($"--export: '{path}' is not an export written by `exchange audit export` ({e.Message})", ExitCodes.InvalidInput);
        }
    }

    private sealed record Trust(string Institute, string Origin, ECDsa LogKey, IReadOnlyList<NoteKey> Witnesses)
    {
        public static Trust FromManifest(NetworkManifest manifest, string institute)
        {
            var entry = manifest.FindInstitute(institute) ?? throw new CliException($"--institute: '{institute}' is not in the manifest", ExitCodes.Usage);
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(entry.SigningKey, out _);
            var witnesses = manifest.Institutes.Where(i => i.Id != institute).Select(i => NoteKey.FromPublicKey(AuditLogFormat.Origin(i.Id), i.SigningKey)).ToList();
            return new Trust(institute, AuditLogFormat.Origin(institute), key, witnesses);
        }
    }

    private static async Task<Trust> TrustAsync(NodeSession session, string? manifestPath, string? institute, CancellationToken token)
    {
        // An auditor with only audit:read, who names the institute and brings the manifest, needs
        // nothing from the network service (which wants findings:read).
        if (manifestPath is not null && institute is not null)
        {
            return Trust.FromManifest(LoadManifest(manifestPath), institute);
        }
        var network = await new NetworkService.NetworkServiceClient(session.Channel).GetNetworkAsync(new GetNetworkRequest(), session.Headers, cancellationToken: token);
        institute ??= network.SelfInstitute;
        if (manifestPath is not null)
        {
            return Trust.FromManifest(LoadManifest(manifestPath), institute);
        }
        // Without a manifest of one's own, the node's view is all there is; say so.
        var self = network.Institutes.SingleOrDefault(i => i.Id == institute) ?? throw new CliException($"--institute: '{institute}' is not in the node's manifest", ExitCodes.Usage);
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(self.SigningKey), out _);
        var witnesses = network.Institutes.Where(i => i.Id != institute).Select(i => NoteKey.FromPublicKey(AuditLogFormat.Origin(i.Id), Convert.FromBase64String(i.SigningKey))).ToList();
        return new Trust(institute, AuditLogFormat.Origin(institute), key, witnesses);
    }

    private static NetworkManifest LoadManifest(string path)
    {
        try
        {
            return ManifestLoader.LoadFile(path);
        }
        catch (ManifestException e)
        {
            throw new CliException($"--manifest: {e.Message}", ExitCodes.InvalidInput);
        }
    }

    private static Transparency.Checkpoint VerifiedCheckpoint(string note, Trust trust)
    {
        if (!SignedNote.TryParse(note, out var signed, out var problem)
            || !NoteKey.VerifyNote(signed!, [new NoteKey(trust.Origin, trust.LogKey)], out _, out problem)
            || !Transparency.Checkpoint.TryParse(signed!.Text, out var checkpoint, out problem))
        {
            throw new CliException($"the node's checkpoint is not signed by {trust.Origin}: {problem}", VerificationFailed);
        }
        return checkpoint!;
    }
}

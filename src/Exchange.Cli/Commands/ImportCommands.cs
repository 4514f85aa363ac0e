using System.CommandLine;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Exchange.Cli.Commands;

internal static class ImportCommands
{
    private const int ChunkBytes = 1024 * 1024;
    // Below this an upload is over before a bar could be read.
    private const long ProgressFromBytes = 8 * 1024 * 1024;

    public static Command Create(CommandRunner runner, GlobalOptions global) =>
        new("import", "Turn results from evaluation tools into findings") { Inspect(runner, global) };

    private static Command Inspect(CommandRunner runner, GlobalOptions global)
    {
        var file = new Argument<string>("log") { Description = "an Inspect eval log: .json or .eval" };
        var label = new Option<string>("--label") { Description = "CLEAR, GREEN, AMBER, AMBER+STRICT or RED", Required = true };
        var to = new Option<string[]>("--to") { Description = "institute or group ids from the manifest, e.g. network (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var domain = new Option<string>("--risk-domain") { Description = $"what the evaluation measures: {string.Join(", ", Vocabulary.RiskDomainNames)}", Required = true };
        var method = new Option<string?>("--method") { Description = $"default automated-capability; {string.Join(", ", Vocabulary.MethodNames)}" };
        var stage = new Option<string?>("--stage") { Description = $"default deployed; {string.Join(", ", Vocabulary.StageNames)}" };
        var severity = new Option<string?>("--severity") { Description = $"default informational; {string.Join(", ", Vocabulary.SeverityNames)}" };
        var title = new Option<string?>("--title") { Description = "default \"<task>: <model>\"" };
        var developer = new Option<string?>("--developer") { Description = "the model's developer; default the provider in the model name" };
        var caveats = new Option<string[]>("--caveat") { Description = "handling caveat for the label (repeatable)" };
        var embargo = new Option<DateTimeOffset?>("--embargo-until") { Description = "hold until this time (ISO 8601)" };
        var noRedistribution = new Option<bool>("--no-redistribution") { Description = "recipients may not pass it on" };
        var purpose = new Option<string?>("--purpose") { Description = "why it is shared" };
        var allowIncomplete = new Option<bool>("--allow-incomplete") { Description = "import a cancelled, failed or crashed run, marked as such" };
        var dryRun = new Option<bool>("--dry-run") { Description = "show the finding and who would receive it; submit nothing" };
        var requestId = new Option<string?>("--request-id") { Description = "makes retries safe; default: one new id per run" };
        var command = new Command("inspect", "Import an Inspect eval log as a finding")
        {
            file, label, to, domain, method, stage, severity, title, developer, caveats, embargo, noRedistribution, purpose, allowIncomplete, dryRun, requestId,
        };
        command.SetAction((parse, ct) => runner.RunAsync(async token =>
        {
            // Everything the user typed is checked before anything is read or sent.
            var path = parse.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new CliException($"log: no file '{path}'", ExitCodes.Usage);
            }
            var options = new InspectImportOptions
            {
                FileName = Path.GetFileName(path),
                Label = new Label { Level = Parse<TlpLevel>(parse.GetValue(label), "--label", Vocabulary.TryParseLabel, Vocabulary.LabelNames) },
                RiskDomain = Parse<RiskDomain>(parse.GetValue(domain), "--risk-domain", Vocabulary.TryParseRiskDomain, Vocabulary.RiskDomainNames),
                Method = parse.GetValue(method) is { } m ? Parse<EvaluationMethod>(m, "--method", Vocabulary.TryParseMethod, Vocabulary.MethodNames) : EvaluationMethod.Unspecified,
                Stage = parse.GetValue(stage) is { } s ? Parse<ModelStage>(s, "--stage", Vocabulary.TryParseStage, Vocabulary.StageNames) : ModelStage.Unspecified,
                Severity = parse.GetValue(severity) is { } v ? Parse<Severity>(v, "--severity", Vocabulary.TryParseSeverity, Vocabulary.SeverityNames) : Severity.Unspecified,
                Title = parse.GetValue(title) ?? "",
                Developer = parse.GetValue(developer) ?? "",
                AllowIncomplete = parse.GetValue(allowIncomplete),
                DryRun = parse.GetValue(dryRun),
                RequestId = parse.GetValue(requestId) ?? Guid.NewGuid().ToString("N"),
                Recipients = { parse.GetValue(to) ?? [] },
                Policy = new AccessPolicy
                {
                    EmbargoUntil = parse.GetValue(embargo) is { } e ? Timestamp.FromDateTimeOffset(e) : null,
                    NoRedistribution = parse.GetValue(noRedistribution),
                    Purpose = parse.GetValue(purpose) ?? "",
                },
            };
            options.Label.Caveats.AddRange(parse.GetValue(caveats) ?? []);

            await runner.InSessionAsync(parse, async (session, t) =>
            {
                ImportInspectLogResponse response;
                try
                {
                    response = await UploadAsync(runner.Context, session, options, path, t);
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.InvalidArgument && e.GetRpcStatus()?.GetDetail<BadRequest>() is { FieldViolations.Count: > 0 } bad)
                {
                    throw Refused(bad, path);
                }
                await WriteAsync(runner.Context.Out, parse.GetValue(global.Output), response);
            }, token);
        }, ct));
        return command;
    }

    private static async Task<ImportInspectLogResponse> UploadAsync(CliContext context, Connection.NodeSession session, InspectImportOptions options, string path, CancellationToken cancellationToken)
    {
        await using var log = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkBytes, FileOptions.SequentialScan | FileOptions.Asynchronous);
        var progress = log.Length >= ProgressFromBytes
            ? new ProgressBar(context.Error, $"uploading {options.FileName}", log.Length, interactive: ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected)
            : null;
        var client = new FindingService.FindingServiceClient(session.Channel);
        using var call = client.ImportInspectLog(session.Headers, cancellationToken: cancellationToken);
        try
        {
            await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Options = options }, cancellationToken);
            var buffer = new byte[ChunkBytes];
            long sent = 0;
            progress?.Report(0);
            int read;
            while ((read = await log.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(buffer, 0, read) }, cancellationToken);
                sent += read;
                progress?.Report(sent);
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
        {
            // The node ended the call early (bad options, file too large): its status says why.
        }
        if (progress is not null)
        {
            await context.Error.WriteLineAsync("the node is reading the log…");
        }
        return await call.ResponseAsync;
    }

    private static async Task WriteAsync(TextWriter o, OutputFormat format, ImportInspectLogResponse response)
    {
        if (format is OutputFormat.Json or OutputFormat.Jsonl)
        {
            await o.WriteLineAsync(ProtoJson.Format(response));
            return;
        }
        if (response.Submitted?.Finding is { } submitted)
        {
            FindingView.WriteFinding(o, submitted);
        }
        else
        {
            await o.WriteLineAsync("DRY RUN: nothing below has been submitted");
            await o.WriteLineAsync();
            FindingView.WriteDraft(o, response.Finding);
        }
        foreach (var note in response.Notes)
        {
            await o.WriteLineAsync($"note: {note}");
        }
        await o.WriteLineAsync();
        if (response.Submitted is { } s)
        {
            FindingView.WriteDecisions(o, s.Decisions);
            await o.WriteLineAsync($"{Environment.NewLine}{(s.Replayed ? "already submitted" : "submitted")} {s.Finding.Id} version {s.Finding.Version} ({s.Finding.Label.Level.Name()})");
            if (s.Decisions.All(d => d.Outcome == DisclosureOutcome.Deny))
            {
                await o.WriteLineAsync("warning: no institute will receive it under this label and audience; see the reasons above");
            }
            return;
        }
        FindingView.WriteDecisions(o, response.Preview);
        var allowed = response.Preview.Count(d => d.Outcome != DisclosureOutcome.Deny);
        await o.WriteLineAsync($"{Environment.NewLine}dry run: {allowed} of {response.Preview.Count} institutes would receive it; nothing was submitted.");
    }

    // The node names proto fields; the user typed options and a file name.
    private static CliException Refused(BadRequest bad, string path)
    {
        var message = new System.Text.StringBuilder("the node refused the import; fix these:");
        foreach (var violation in bad.FieldViolations)
        {
            var field = violation.Field switch
            {
                "chunk" => path,
                "options.label.level" => "--label",
                "options.risk_domain" => "--risk-domain",
                "options.policy.purpose" => "--purpose",
                "options.policy.embargo_until" => "--embargo-until",
                "options.request_id" => "--request-id",
                "content.title" => "--title",
                "content.model.developer" => "--developer",
                var f when f.StartsWith("options.recipients", StringComparison.Ordinal) || f.StartsWith("options.policy.recipient", StringComparison.Ordinal) => "--to",
                var f when f.StartsWith("options.label.caveats", StringComparison.Ordinal) => "--caveat",
                var f => $"{f} (from the log)",
            };
            message.AppendLine().Append("  ").Append(field).Append(": ").Append(violation.Description);
        }
        return new CliException(message.ToString(), ExitCodes.InvalidInput);
    }

    private delegate bool TryParse<T>(string? text, out T value);

    private static T Parse<T>(string? text, string option, TryParse<T> parse, IEnumerable<string> names) =>
        parse(text, out var value) ? value : throw new CliException($"{option}: '{text}' is not one of {string.Join(", ", names)}", ExitCodes.Usage);
}

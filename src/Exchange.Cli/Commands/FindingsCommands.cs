using System.CommandLine;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Commands;

internal static class FindingsCommands
{
    public static Command Create(CommandRunner runner, GlobalOptions global) =>
        new("findings", "Submit, read, list, withdraw and preview findings")
        {
            Submit(runner, global), Preview(runner, global), List(runner, global), Get(runner, global), Withdraw(runner, global),
        };

    private static Command Submit(CommandRunner runner, GlobalOptions global)
    {
        var file = new Option<string>("--file", "-f") { Description = "the finding: a SubmitFindingRequest in protobuf JSON", Required = true };
        var requestId = new Option<string?>("--request-id") { Description = "makes retries safe; default: one new id per run, kept across this run's retries" };
        var supersedes = new Option<string?>("--supersedes") { Description = "publish this as a new version of one of your findings" };
        var command = new Command("submit", "Submit a finding; it is decided, stored and disclosed as its policy allows") { file, requestId, supersedes };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var request = ProtoJson.ReadFile<SubmitFindingRequest>(parse.GetValue(file)!, "--file");
            request.RequestId = parse.GetValue(requestId) ?? (request.RequestId.Length > 0 ? request.RequestId : Guid.NewGuid().ToString("N"));
            if (parse.GetValue(supersedes) is { } id)
            {
                request.SupersedesFindingId = id;
            }
            var client = new FindingService.FindingServiceClient(session.Channel);
            var response = await client.SubmitFindingAsync(request, session.Headers, cancellationToken: token);
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(response));
                return;
            }
            await runner.Context.Out.WriteLineAsync($"{(response.Replayed ? "already submitted" : "submitted")} {response.Finding.Id} version {response.Finding.Version} ({response.Finding.Label.Level.Name()})");
            await runner.Context.Out.WriteLineAsync();
            FindingView.WriteDecisions(runner.Context.Out, response.Decisions);
        }, ct));
        return command;
    }

    private static Command Preview(CommandRunner runner, GlobalOptions global)
    {
        var file = new Option<string>("--file", "-f") { Description = "the finding as for submit", Required = true };
        var command = new Command("preview", "Show who would receive a finding and why, without sending anything") { file };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var draft = ProtoJson.ReadFile<SubmitFindingRequest>(parse.GetValue(file)!, "--file");
            var client = new FindingService.FindingServiceClient(session.Channel);
            var response = await client.PreviewDisclosureAsync(
                new PreviewDisclosureRequest { Content = draft.Content, Label = draft.Label, Policy = draft.Policy }, session.Headers, cancellationToken: token);
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(response));
                return;
            }
            FindingView.WriteDecisions(runner.Context.Out, response.Decisions);
            var allowed = response.Decisions.Count(d => d.Outcome != DisclosureOutcome.Deny);
            await runner.Context.Out.WriteLineAsync($"{Environment.NewLine}{allowed} of {response.Decisions.Count} institutes would receive it; nothing was sent.");
        }, ct));
        return command;
    }

    private static Command List(CommandRunner runner, GlobalOptions global)
    {
        var labels = new Option<string[]>("--label") { Description = "CLEAR, GREEN, AMBER, AMBER+STRICT or RED (repeatable)", AllowMultipleArgumentsPerToken = true };
        var domains = new Option<string[]>("--risk-domain") { Description = "e.g. cyber, chem-bio (repeatable)", AllowMultipleArgumentsPerToken = true };
        var model = new Option<string?>("--model") { Description = "model name or developer" };
        var origin = new Option<string?>("--origin") { Description = "origin institute id" };
        // A partner polls with --since: on the time this node received the finding, not the origin's
        // submission time, so a finding held for an embargo or delayed by an outage is not missed.
        var since = new Option<DateTimeOffset?>("--since") { Description = "received by this node at or after (ISO 8601): submitted here, arrived from a peer, or released here when its embargo passed" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "received by this node before (ISO 8601), as for --since" };
        var pageSize = new Option<int>("--page-size") { Description = "findings per page (at most 500)", DefaultValueFactory = _ => 50 };
        var pageToken = new Option<string?>("--page-token") { Description = "continue from a previous page" };
        var all = new Option<bool>("--all") { Description = "follow every page" };
        var withdrawn = new Option<bool>("--include-withdrawn") { Description = "list withdrawn findings too" };
        var command = new Command("list", "List findings this node holds, newest first")
        {
            labels, domains, model, origin, since, until, pageSize, pageToken, all, withdrawn,
        };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var request = new ListFindingsRequest
            {
                PageSize = parse.GetValue(pageSize),
                PageToken = parse.GetValue(pageToken) ?? "",
                Model = parse.GetValue(model) ?? "",
                OriginInstitute = parse.GetValue(origin) ?? "",
                IncludeWithdrawn = parse.GetValue(withdrawn),
                ReceivedAfter = parse.GetValue(since) is { } s ? Timestamp.FromDateTimeOffset(s) : null,
                ReceivedBefore = parse.GetValue(until) is { } u ? Timestamp.FromDateTimeOffset(u) : null,
            };
            request.Labels.AddRange(FilterValues.Labels(parse.GetValue(labels)));
            request.RiskDomains.AddRange(FilterValues.RiskDomains(parse.GetValue(domains)));
            var client = new FindingService.FindingServiceClient(session.Channel);
            var found = new List<FindingSummary>();
            string next;
            do
            {
                var page = await client.ListFindingsAsync(request, session.Headers, cancellationToken: token);
                found.AddRange(page.Findings);
                next = page.NextPageToken;
                request.PageToken = next;
            }
            while (parse.GetValue(all) && next.Length > 0);

            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(new ListFindingsResponse { Findings = { found }, NextPageToken = next }));
                return;
            }
            FindingView.WriteSummaries(runner.Context.Out, found);
            if (next.Length > 0)
            {
                await runner.Context.Out.WriteLineAsync($"{Environment.NewLine}more: --page-token {next}");
            }
        }, ct));
        return command;
    }

    private static Command Get(CommandRunner runner, GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "finding id" };
        var version = new Option<int>("--version") { Description = "a specific version (default: the latest)" };
        var command = new Command("get", "Show one finding (reads of AMBER and above are audited)") { id, version };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var client = new FindingService.FindingServiceClient(session.Channel);
            var response = await client.GetFindingAsync(new GetFindingRequest { Id = parse.GetValue(id)!, Version = parse.GetValue(version) }, session.Headers, cancellationToken: token);
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(response));
                return;
            }
            FindingView.WriteFinding(runner.Context.Out, response.Finding);
            if (response.Decisions.Count > 0)
            {
                await runner.Context.Out.WriteLineAsync();
                FindingView.WriteDecisions(runner.Context.Out, response.Decisions);
            }
        }, ct));
        return command;
    }

    private static Command Withdraw(CommandRunner runner, GlobalOptions global)
    {
        var id = new Argument<string>("id") { Description = "finding id" };
        var reason = new Option<string>("--reason") { Description = "why, for the recipients and the audit log", Required = true };
        var command = new Command("withdraw", "Withdraw one of this institute's findings everywhere it went") { id, reason };
        command.SetAction((parse, ct) => runner.WithNodeAsync(parse, async (session, token) =>
        {
            var client = new FindingService.FindingServiceClient(session.Channel);
            var response = await client.WithdrawFindingAsync(new WithdrawFindingRequest { Id = parse.GetValue(id)!, Reason = parse.GetValue(reason)! }, session.Headers, cancellationToken: token);
            if (global.IsJson(parse))
            {
                await runner.Context.Out.WriteLineAsync(ProtoJson.Format(response));
                return;
            }
            await runner.Context.Out.WriteLineAsync($"withdrawn {response.Id} (every version up to {response.Version})");
        }, ct));
        return command;
    }
}

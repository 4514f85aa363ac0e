using System.CommandLine;
using System.Globalization;
using Exchange.Cli.Connection;
using Exchange.Cli.Output;
using Exchange.Domain;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary>
/// `exchange subscribe`: follows the node's feed and keeps following it. A lost connection, a node
/// restart or an expired token is not the end: it reconnects with a fresh token from the last cursor
/// it saw, so what it prints has no gap and no repeat.
/// </summary>
internal static class SubscribeCommand
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(30);

    public static Command Create(CommandRunner runner, GlobalOptions global)
    {
        var after = new Option<ulong?>("--after") { Description = "resume after this cursor (from an event or a heartbeat); default: from the beginning" };
        var fromNow = new Option<bool>("--from-now") { Description = "only what happens from now on" };
        var cursorFile = new Option<string?>("--cursor-file") { Description = "keep the last cursor in this file and resume from it next time" };
        var labels = new Option<string[]>("--label") { Description = "CLEAR, GREEN, AMBER, AMBER+STRICT or RED (repeatable)", AllowMultipleArgumentsPerToken = true };
        var domains = new Option<string[]>("--risk-domain") { Description = "e.g. cyber, chem-bio (repeatable)", AllowMultipleArgumentsPerToken = true };
        var origins = new Option<string[]>("--origin") { Description = "origin institute id (repeatable)", AllowMultipleArgumentsPerToken = true };
        var model = new Option<string?>("--model") { Description = "model name or developer" };
        var limit = new Option<int?>("--limit") { Description = "stop after this many events" };
        var heartbeat = new Option<uint>("--heartbeat") { Description = "seconds between heartbeats while nothing happens (1-300; default 15)" };
        var command = new Command("subscribe", "Follow the findings this node publishes and receives, with supersessions and withdrawals; resumes by itself after a lost connection")
        {
            after, fromNow, cursorFile, labels, domains, origins, model, limit, heartbeat,
        };
        command.SetAction((parse, ct) => runner.RunAsync(async token =>
        {
            if (parse.GetValue(limit) is <= 0)
            {
                throw new CliException("--limit: must be at least 1", ExitCodes.Usage);
            }
            var file = parse.GetValue(cursorFile);
            if (parse.GetValue(fromNow) && parse.GetValue(after) is not null)
            {
                throw new CliException("--from-now: cannot be combined with --after", ExitCodes.Usage);
            }
            // A cursor file that holds a cursor wins over --from-now: a service restarted with the
            // same command line carries on where it stopped instead of skipping what it missed.
            var saved = ReadCursor(file);
            var cursor = parse.GetValue(after) ?? saved ?? 0;
            var request = new SubscribeRequest
            {
                FromNow = parse.GetValue(fromNow) && saved is null,
                Labels = { FilterValues.Labels(parse.GetValue(labels)) },
                RiskDomains = { FilterValues.RiskDomains(parse.GetValue(domains)) },
                OriginInstitutes = { parse.GetValue(origins) ?? [] },
                Model = parse.GetValue(model) ?? "",
                HeartbeatSeconds = parse.GetValue(heartbeat),
            };
            var follower = new Follower(runner, request, cursor, file, parse.GetValue(limit), parse.GetValue(global.Output));
            await follower.RunAsync(parse, token);
        }, ct));
        return command;
    }

    private static ulong? ReadCursor(string? file)
    {
        if (file is null || !File.Exists(file))
        {
            return null;
        }
        var text = File.ReadAllText(file).Trim();
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cursor)
            ? cursor
            : throw new CliException($"--cursor-file: '{file}' does not hold a cursor (found '{text}')", ExitCodes.InvalidInput);
    }

    private sealed class Follower(CommandRunner runner, SubscribeRequest request, ulong cursor, string? cursorFile, int? limit, OutputFormat format)
    {
        private int _printed;
        private bool _headerWritten;
        // Set by the first event or heartbeat: from then on the cursor, even 0, is where we are.
        private bool _positioned;

        public async Task RunAsync(ParseResult parse, CancellationToken cancellationToken)
        {
            var retry = FirstRetry;
            while (true)
            {
                try
                {
                    await runner.InSessionAsync(parse, async (session, token) =>
                    {
                        var client = new SubscriptionService.SubscriptionServiceClient(session.Channel);
                        var attempt = request.Clone();
                        attempt.AfterCursor = cursor;
                        // Once positioned, "from now" would skip what happened while away.
                        attempt.FromNow = request.FromNow && !_positioned;
                        using var call = client.Subscribe(attempt, session.Headers, cancellationToken: token);
                        while (await call.ResponseStream.MoveNext(token))
                        {
                            retry = FirstRetry;
                            if (await HandleAsync(call.ResponseStream.Current))
                            {
                                return;
                            }
                        }
                    }, cancellationToken);
                    if (limit is { } l && _printed >= l)
                    {
                        return;
                    }
                    // The node ended the stream (it is shutting down): follow it to where it comes back.
                    await runner.Context.Error.WriteLineAsync($"exchange: the node closed the subscription; resuming after cursor {cursor} in {retry.TotalSeconds:0.#} s");
                }
                catch (CliException e) when (Resumable(e) && !cancellationToken.IsCancellationRequested)
                {
                    await runner.Context.Error.WriteLineAsync($"exchange: subscription interrupted ({e.Message}); resuming after cursor {cursor} in {retry.TotalSeconds:0.#} s");
                }
                await Task.Delay(retry, cancellationToken);
                retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LongestRetry.Ticks));
            }
        }

        // Unreachable, busy or failing nodes are waited for. Refusals are final, except an expired
        // token: the next session brings a new one (bad credentials fail at the token endpoint).
        private static bool Resumable(CliException e) =>
            e.ExitCode is ExitCodes.Unavailable or ExitCodes.Failure || (e.ExitCode == ExitCodes.NotAuthorized && e.Message.Contains("expired", StringComparison.Ordinal));

        /// <summary>Prints one item and moves the cursor; true when the limit is reached.</summary>
        private async Task<bool> HandleAsync(SubscribeResponse item)
        {
            _positioned = true;
            if (item.Event is { } feedEvent)
            {
                await PrintAsync(feedEvent);
                SaveCursor(feedEvent.Cursor);
                return limit is { } l && ++_printed >= l;
            }
            SaveCursor(item.Heartbeat.Cursor);
            return false;
        }

        private async Task PrintAsync(FeedEvent e)
        {
            var output = runner.Context.Out;
            if (format is OutputFormat.Json or OutputFormat.Jsonl)
            {
                // A stream has no closing bracket: one object per line either way.
                await output.WriteLineAsync(ProtoJson.FormatLine(e));
            }
            else
            {
                if (!_headerWritten)
                {
                    await output.WriteLineAsync("CURSOR     TIME                  EVENT       LABEL         ORIGIN  FINDING                                       TITLE / REASON");
                    _headerWritten = true;
                }
                var kind = e.Kind.ToString().ToLowerInvariant();
                // A withheld event names the version shown here earlier, now no longer current, and nothing else.
                var what = e.Withheld
                    ? e.Kind == FeedEventKind.Superseded ? "(no longer current: superseded by a version not shown to you)" : "(withdrawn; the reason is not shown to you)"
                    : e.Kind == FeedEventKind.Withdrawn ? e.Reason : e.Finding?.Content?.Title ?? "";
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{e.Cursor,-10} {FindingView.Time(e.OccurredAt),-21} {kind,-11} {e.Label.Name(),-13} {e.OriginInstitute,-7} {$"{e.FindingId} v{e.FindingVersion}",-45} {what}"));
            }
            await output.FlushAsync();
        }

        // Printed, then saved: a crash between the two prints that event again on the next run
        // (at least once, never a gap); its cursor tells a consumer it has seen it.
        private void SaveCursor(ulong next)
        {
            if (next == cursor)
            {
                return;
            }
            cursor = next;
            if (cursorFile is null)
            {
                return;
            }
            // Written aside and moved into place, so that a crash never leaves half a cursor.
            OutputFiles.WriteAllText("--cursor-file", cursorFile, cursor.ToString(CultureInfo.InvariantCulture));
        }
    }
}

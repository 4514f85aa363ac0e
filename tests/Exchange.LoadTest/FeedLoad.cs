using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.LoadTest;

/// <summary>
/// `feed` mode: events/s that one node's SubscriptionService delivers to many subscribers, from the
/// backlog and live, against a baseline measured in the same run: a bare gRPC server streaming the
/// very same FeedEvent messages (no database, no audit, no authorisation) to as many clients.
/// </summary>
internal static class FeedLoad
{
    public static async Task<int> RunAsync(int subscribers, int findings, string database, double amberShare)
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-feed-load", Guid.NewGuid().ToString("N")[..8]);
        var manifest = new TestManifest().Institute("uk").Institute("us");
        await using var db = await TestDatabase.CreateAsync(database, directory);
        await using var node = new NodeProcess("uk", manifest.WriteTo(directory), manifest.Keys["uk"], db.Provider, db.ConnectionString, directory,
            [new("Broker:Transport", "InMemory"), new("Audit:CheckpointInterval", "00:00:30"), new("Subscriptions:MaxSubscribers", "1000"),
                // One client stands for every subscriber here; the per-client cap is for partners.
                new("Subscriptions:MaxPerClient", "1000")]);
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores; feed of one node ({database}) to {subscribers} subscribers; " +
                          $"{findings} findings in the backlog, {findings / 2} live; {amberShare:P0} AMBER (each of their reads audited)");
        await node.StartAsync();
        var submitter = await node.AuthAsync(TestClients.Submitter);
        var reader = await node.AuthAsync(TestClients.Reader);

        await SubmitAsync(node, submitter, findings, amberShare, null);
        // One subscriber reads the backlog first: it waits until the log has integrated everything,
        // and its events are what the baseline server sends.
        var reference = await FollowAsync(node.Address, reader, new SubscribeRequest(), findings, null);
        var messages = reference.Events;
        var bytes = messages.Sum(m => m.CalculateSize());

        var raw = await RawBaselineAsync(messages, subscribers);
        Console.WriteLine();
        Console.WriteLine($"Baseline, bare gRPC stream of the same {findings} events ({bytes / findings} bytes each) to {subscribers} clients: " +
                          $"{raw:0} events/s");

        var before = node.Usage();
        var clock = Stopwatch.StartNew();
        var backlog = await Task.WhenAll(Enumerable.Range(0, subscribers).Select(_ => FollowAsync(node.Address, reader, new SubscribeRequest(), findings, null)));
        var backlogElapsed = clock.Elapsed;
        var afterBacklog = node.Usage();
        Check(backlog, messages);
        var backlogRate = subscribers * (double)findings / backlogElapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"Exchange, backlog: {subscribers} x {findings} events in {backlogElapsed.TotalSeconds:0.00} s = {backlogRate:0} events/s " +
                          $"(node CPU {(afterBacklog.Cpu - before.Cpu).TotalSeconds:0.0} s, peak memory {afterBacklog.PeakBytes / 1024.0 / 1024:0} MiB)");
        Console.WriteLine($"  ratio exchange / bare stream: {backlogRate / raw:0.000}");

        // Live: subscribers wait at the end of the feed while findings are submitted at full speed.
        var live = findings / 2;
        var submittedAt = new ConcurrentDictionary<string, long>();
        var followers = Enumerable.Range(0, subscribers).Select(_ => FollowAsync(node.Address, reader, new SubscribeRequest { FromNow = true }, live, submittedAt)).ToArray();
        await Task.Delay(2000);
        clock.Restart();
        var start = Stopwatch.GetTimestamp();
        await SubmitAsync(node, submitter, live, amberShare, submittedAt);
        var submitElapsed = clock.Elapsed;
        var followed = await Task.WhenAll(followers);
        var liveElapsed = Stopwatch.GetElapsedTime(start, followed.Max(f => f.LastAt));
        var latencies = followed.SelectMany(f => f.Latencies).Order().ToArray();
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        Console.WriteLine();
        Console.WriteLine($"Exchange, live: {live} findings submitted in {submitElapsed.TotalSeconds:0.00} s ({live / submitElapsed.TotalSeconds:0} findings/s); " +
                          $"{subscribers} x {live} events delivered in {liveElapsed.TotalSeconds:0.00} s = {subscribers * live / liveElapsed.TotalSeconds:0} events/s");
        Console.WriteLine($"  submit -> in every subscriber's hands: p50 {Percentile(0.50):0} ms, p95 {Percentile(0.95):0} ms, p99 {Percentile(0.99):0} ms, max {latencies[^1]:0} ms");
        return 0;
    }

    private static void Check(IEnumerable<Followed> runs, List<FeedEvent> expected)
    {
        foreach (var run in runs)
        {
            if (!run.Events.Select(e => e.Cursor).SequenceEqual(expected.Select(e => e.Cursor)))
            {
                throw new InvalidOperationException("a subscriber's events differ from the reference: the feed is not the same for everyone");
            }
        }
    }

    private static async Task SubmitAsync(NodeProcess node, Metadata auth, int count, double amberShare, ConcurrentDictionary<string, long>? submittedAt)
    {
        var client = new FindingService.FindingServiceClient(node.Channel);
        var next = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, ct) =>
        {
            var i = Interlocked.Increment(ref next);
            var request = SampleFindings.Valid(i % 100 < amberShare * 100 ? TlpLevel.Amber : TlpLevel.Green, RiskDomain.Cyber);
            var at = Stopwatch.GetTimestamp();
            var response = await client.SubmitFindingAsync(request, auth, cancellationToken: ct);
            submittedAt?.TryAdd(response.Finding.Id, at);
        });
    }

    private sealed record Followed(List<FeedEvent> Events, List<double> Latencies, long LastAt);

    /// <summary>A subscriber on its own connection, as a separate partner system would be.</summary>
    private static async Task<Followed> FollowAsync(Uri address, Metadata auth, SubscribeRequest request, int count, ConcurrentDictionary<string, long>? submittedAt)
    {
        using var handler = new SocketsHttpHandler();
        using var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = null });
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        using var call = new SubscriptionService.SubscriptionServiceClient(channel).Subscribe(request, auth, cancellationToken: timeout.Token);
        var events = new List<FeedEvent>(count);
        var latencies = new List<double>(submittedAt is null ? 0 : count);
        long last = 0;
        while (events.Count < count && await call.ResponseStream.MoveNext(timeout.Token))
        {
            if (call.ResponseStream.Current.Event is not { } e)
            {
                continue;
            }
            last = Stopwatch.GetTimestamp();
            events.Add(e);
            if (submittedAt is not null)
            {
                // The submit call may return after the event has already arrived; wait for its time.
                while (!submittedAt.TryGetValue(e.FindingId, out var at))
                {
                    await Task.Delay(1);
                }
                latencies.Add(Stopwatch.GetElapsedTime(submittedAt[e.FindingId], last).TotalMilliseconds);
            }
        }
        if (events.Count < count)
        {
            throw new InvalidOperationException($"the subscription ended after {events.Count} of {count} events");
        }
        return new Followed(events, latencies, last);
    }

    private static async Task<double> RawBaselineAsync(List<FeedEvent> messages, int subscribers)
    {
        var port = NodeHost.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxSendMessageSize = null);
        builder.Services.AddSingleton(messages);
        await using var app = builder.Build();
        app.MapGrpcService<BareFeed>();
        await app.StartAsync();
        var clock = Stopwatch.StartNew();
        var runs = await Task.WhenAll(Enumerable.Range(0, subscribers).Select(_ =>
            FollowAsync(new Uri($"http://127.0.0.1:{port}/"), [], new SubscribeRequest(), messages.Count, null)));
        var elapsed = clock.Elapsed;
        Check(runs, messages);
        await app.StopAsync();
        return subscribers * (double)messages.Count / elapsed.TotalSeconds;
    }

    /// <summary>The same messages, written as fast as the stream takes them.</summary>
    private sealed class BareFeed(List<FeedEvent> messages) : SubscriptionService.SubscriptionServiceBase
    {
        public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
        {
            foreach (var message in messages)
            {
                await responseStream.WriteAsync(new SubscribeResponse { Event = message }, context.CancellationToken);
            }
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}

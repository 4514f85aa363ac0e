using System.Net;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Cli.Tests;

/// <summary>`exchange subscribe` against a real node, on connections that hold and on ones that keep breaking.</summary>
public sealed class SubscribeCliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private const string Node = "http://localhost/";
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default);
    private readonly string _config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));

    private async Task LoginAsync(string client = TestClients.Reader)
    {
        var login = await fixture.RunAsync(_config, "login", "--node", Node, "--client-id", client, "--client-secret", TestClients.Secret(client));
        Assert.True(login.ExitCode == 0, login.Error);
    }

    private async Task<List<string>> SubmitAsync(string model, int count)
    {
        using var channel = fixture.Node.CreateChannel();
        var client = new FindingService.FindingServiceClient(channel);
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var request = SampleFindings.Valid(i % 2 == 0 ? TlpLevel.Green : TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
            request.Content.Model.Name = model;
            ids.Add((await client.SubmitFindingAsync(request, auth)).Finding.Id);
        }
        return ids;
    }

    private static List<FeedEvent> Events(string jsonl) =>
        [.. jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => Parser.Parse<FeedEvent>(line))];

    [Fact]
    public async Task Jsonl_prints_one_event_per_line_in_cursor_order_and_stops_at_the_limit()
    {
        await LoginAsync();
        var model = $"model-{Guid.NewGuid():N}";
        var ids = await SubmitAsync(model, 5);

        var run = await fixture.RunAsync(_config, "subscribe", "--model", model, "--limit", "5", "--output", "jsonl");

        Assert.True(run.ExitCode == 0, run.Error);
        var events = Events(run.Out);
        Assert.Equal(ids, events.Select(e => e.FindingId));
        Assert.All(events, e => Assert.Equal(FeedEventKind.Published, e.Kind));
        Assert.Equal(events.Select(e => e.Cursor).Order(), events.Select(e => e.Cursor));
    }

    [Fact]
    public async Task The_table_names_the_event_the_label_and_the_finding()
    {
        await LoginAsync();
        var model = $"model-{Guid.NewGuid():N}";
        var ids = await SubmitAsync(model, 2);

        var run = await fixture.RunAsync(_config, "subscribe", "--model", model, "--label", "AMBER", "--limit", "1");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches($@"published\s+AMBER\s+uk\s+{ids[1]} v1\s+Uplift", run.Out);
        Assert.DoesNotContain(ids[0], run.Out);
    }

    [Fact]
    public async Task A_connection_that_keeps_breaking_is_resumed_from_the_last_cursor_with_no_gap_and_no_repeat()
    {
        await LoginAsync();
        var model = $"model-{Guid.NewGuid():N}";
        var ids = await SubmitAsync(model, 30);
        var cursorFile = Path.Combine(fixture.Directory, $"cursor-{Guid.NewGuid():N}");
        var random = new Random(7);
        // Every subscription response is cut after a few kilobytes (each event is about 1.5 KB).
        HttpMessageHandler Breaking() => new BreakingHandler(fixture.Node.Server.CreateHandler(), () => random.Next(1_000, 8_000));

        var run = await fixture.RunThroughAsync(Breaking, _config, "subscribe", "--model", model, "--limit", "30", "--output", "jsonl", "--cursor-file", cursorFile);

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(ids, Events(run.Out).Select(e => e.FindingId));
        var resumptions = run.Error.Split('\n').Count(l => l.Contains("resuming after cursor", StringComparison.Ordinal));
        Assert.True(resumptions >= 3, run.Error);
        Assert.Equal(Events(run.Out)[^1].Cursor.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(cursorFile));

        // The cursor file lets the next run pick up where this one stopped.
        var more = await SubmitAsync(model, 2);
        var next = await fixture.RunAsync(_config, "subscribe", "--model", model, "--limit", "2", "--output", "jsonl", "--cursor-file", cursorFile);
        Assert.True(next.ExitCode == 0, next.Error);
        Assert.Equal(more, Events(next.Out).Select(e => e.FindingId));
    }

    [Fact]
    public async Task From_now_with_a_cursor_file_starts_at_the_end_once_then_carries_on_from_the_file()
    {
        await LoginAsync();
        var model = $"model-{Guid.NewGuid():N}";
        await SubmitAsync(model, 1);
        // In the log before the subscriber starts, so that from-now has something to skip.
        await Eventually.TrueAsync(async () =>
        {
            var pending = true;
            await fixture.WithDatabaseAsync(async db => pending = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.AuditEvents, e => e.LeafIndex == null));
            return !pending;
        }, "the audit log has integrated the first finding");
        var cursorFile = Path.Combine(fixture.Directory, $"cursor-{Guid.NewGuid():N}");
        string[] command = ["subscribe", "--from-now", "--cursor-file", cursorFile, "--model", model, "--limit", "1", "--output", "jsonl"];

        var first = fixture.RunAsync(_config, command);
        await Eventually.TrueAsync(() => Task.FromResult(File.Exists(cursorFile)), "the subscriber is at the end of the feed");
        var live = await SubmitAsync(model, 1);
        var run = await first;
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Equal(live, Events(run.Out).Select(e => e.FindingId));

        // Submitted while nothing ran: the same command line picks it up rather than skipping it.
        var missed = await SubmitAsync(model, 1);
        var again = await fixture.RunAsync(_config, command);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(missed, Events(again.Out).Select(e => e.FindingId));
    }

    [Fact]
    public async Task A_refusal_is_final_and_names_the_scope_or_field()
    {
        await LoginAsync(TestClients.Auditor);
        var denied = await fixture.RunAsync(_config, "subscribe", "--limit", "1");
        Assert.Equal(ExitCodes.NotAuthorized, denied.ExitCode);
        Assert.Contains("permission denied", denied.Error);

        await LoginAsync();
        var bad = await fixture.RunAsync(_config, "subscribe", "--origin", "atlantis", "--limit", "1");
        Assert.Equal(ExitCodes.InvalidInput, bad.ExitCode);
        Assert.Contains("origin_institutes[0]", bad.Error);
        var usage = await fixture.RunAsync(_config, "subscribe", "--label", "PURPLE");
        Assert.Equal(ExitCodes.Usage, usage.ExitCode);
        Assert.Contains("--label", usage.Error);
    }

    /// <summary>Cuts every gRPC subscription response after a number of bytes, as a dropped connection would.</summary>
    private sealed class BreakingHandler(HttpMessageHandler inner, Func<int> bytesBeforeBreak) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!request.RequestUri!.AbsolutePath.EndsWith("/Subscribe", StringComparison.Ordinal) || response.StatusCode != HttpStatusCode.OK)
            {
                return response;
            }
            var original = response.Content;
            var cut = new StreamContent(new BreakingStream(await original.ReadAsStreamAsync(cancellationToken), bytesBeforeBreak()));
            foreach (var header in original.Headers)
            {
                cut.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            response.Content = cut;
            return response;
        }
    }

    private sealed class BreakingStream(Stream inner, int limit) : Stream
    {
        private int _read;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_read >= limit)
            {
                throw new IOException("connection reset (test)");
            }
            var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, limit - _read)], cancellationToken);
            _read += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

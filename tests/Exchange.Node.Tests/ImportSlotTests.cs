using System.Net;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>
/// Inspect imports take one of a few slots and wait for one only so long: the bound on what imports
/// take of a node's memory is the slots times what one import holds. An upload keeps its slot and its
/// spooled file only while it keeps arriving, and a node killed mid-upload leaves nothing spooled once
/// it is back. Slots are held in memory: one provider.
/// </summary>
public sealed class ImportSlotTests : TestWorkspace
{
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Group("g7", "uk", "us");

    private static ImportInspectLogRequest Options() => new()
    {
        Options = new InspectImportOptions { FileName = "01_log_formats.json", Label = new Label { Level = TlpLevel.Green }, RiskDomain = RiskDomain.Cyber, Recipients = { "g7" }, DryRun = true },
    };

    [Fact]
    public async Task An_import_that_finds_every_slot_taken_is_refused_once_its_wait_is_over_and_the_slot_serves_the_next()
    {
        await using var node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            [new("Findings:Imports:MaxConcurrent", "1"), new("Findings:Imports:SlotWait", "00:00:00.100")]);
        var auth = await node.AuthAsync(TestClients.Submitter);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);
        var log = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "samples", "01_log_formats.json")));

        // The first upload takes the only slot and holds it while it has not finished sending.
        using var first = findings.ImportInspectLog(auth);
        await first.RequestStream.WriteAsync(Options());
        await first.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = log });
        var spool = Path.Combine(Folder, "imports");
        await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any()), "the first upload is spooling");

        // A guard, not an assertion: an import that waited for ever would end here.
        using var second = findings.ImportInspectLog(auth, deadline: DateTime.UtcNow.AddSeconds(30));
        await second.RequestStream.WriteAsync(Options());
        var refused = await FailsWith(StatusCode.ResourceExhausted, () => second.ResponseAsync);

        await first.RequestStream.CompleteAsync();
        Assert.Equal("inspect_ai", (await first.ResponseAsync).Finding.Content.Evaluation.Framework);
        using var third = findings.ImportInspectLog(auth);
        await third.RequestStream.WriteAsync(Options());
        await third.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = log });
        await third.RequestStream.CompleteAsync();

        Assert.Contains("Findings:Imports:MaxConcurrent", refused.Status.Detail);
        Assert.Contains("Findings:Imports:SlotWait", refused.Status.Detail);
        Assert.Equal("inspect_ai", (await third.ResponseAsync).Finding.Content.Evaluation.Framework);
    }

    [Fact]
    public async Task An_upload_that_goes_quiet_is_refused_naming_the_setting_and_frees_its_slot_and_spool_for_the_next_import()
    {
        // Real Kestrel: grpc-dotnet turns its minimum request body data rate off for client streams.
        await using var node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            [new("Findings:Imports:MaxConcurrent", "1"), new("Findings:Imports:SlotWait", "00:00:01"), new("Findings:Imports:IdleTimeout", "00:00:02")]).ListenOnLoopback();
        using var channel = GrpcChannel.ForAddress(node.Address!);
        var findings = new FindingService.FindingServiceClient(channel);
        var auth = await KestrelAuthAsync(node.Address!);

        // The options and one byte, then nothing: the only slot is taken. The deadline is a guard, not an assertion.
        using var quiet = findings.ImportInspectLog(auth, deadline: DateTime.UtcNow.AddSeconds(60));
        await quiet.RequestStream.WriteAsync(Options());
        await quiet.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom([(byte)'{']) });
        var refused = await Assert.ThrowsAsync<RpcException>(() => quiet.ResponseAsync);

        Assert.True(refused.StatusCode == StatusCode.DeadlineExceeded && refused.Status.Detail.Contains("Findings:Imports:IdleTimeout", StringComparison.Ordinal),
            $"{refused.StatusCode}: {refused.Status.Detail}");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Folder, "imports")));
        using var honest = findings.ImportInspectLog(auth);
        await honest.RequestStream.WriteAsync(Options());
        await honest.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "samples", "01_log_formats.json"))) });
        await honest.RequestStream.CompleteAsync();
        Assert.Equal("inspect_ai", (await honest.ResponseAsync).Finding.Content.Evaluation.Framework);
    }

    [Fact]
    public async Task Any_client_stream_that_sends_nothing_is_refused_naming_the_setting()
    {
        await using var node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            [new("Findings:Imports:IdleTimeout", "00:00:01")]).ListenOnLoopback();
        using var channel = GrpcChannel.ForAddress(node.Address!);
        var auth = await KestrelAuthAsync(node.Address!);
        var streams = WireRequests.Methods.Where(m => m.IsClientStreaming).ToList();
        Assert.NotEmpty(streams);
        foreach (var method in streams)
        {
            var raw = new Method<byte[], byte[]>(method.IsServerStreaming ? MethodType.DuplexStreaming : MethodType.ClientStreaming, method.Service.FullName, method.Name,
                Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
            // Opened, then silent; the deadline is a guard, not an assertion.
            using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(raw, null, new CallOptions(auth, DateTime.UtcNow.AddSeconds(60)));

            var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);

            Assert.True(refused.StatusCode == StatusCode.DeadlineExceeded && refused.Status.Detail.Contains("Findings:Imports:IdleTimeout", StringComparison.Ordinal),
                $"{method.FullName}: {refused.StatusCode}: {refused.Status.Detail}");
        }
    }

    [Fact]
    public async Task An_upload_that_trickles_a_byte_at_a_time_is_refused_naming_the_setting_and_leaves_nothing_spooled()
    {
        await using var node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            [new("Findings:Imports:IdleTimeout", "00:00:01"), new("Findings:Imports:MinBytesPerSecond", "1000")]).ListenOnLoopback();
        using var channel = GrpcChannel.ForAddress(node.Address!);
        var findings = new FindingService.FindingServiceClient(channel);
        var auth = await KestrelAuthAsync(node.Address!);

        // Each byte well inside the idle timeout, so only the average can tell. The deadline is a guard.
        using var trickle = findings.ImportInspectLog(auth, deadline: DateTime.UtcNow.AddSeconds(60));
        await trickle.RequestStream.WriteAsync(Options());
        try
        {
            while (!trickle.ResponseAsync.IsCompleted)
            {
                await trickle.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom([(byte)' ']) });
                await Task.WhenAny(trickle.ResponseAsync, Task.Delay(TimeSpan.FromMilliseconds(200)));
            }
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // The node ended the call; ResponseAsync carries its status.
        }
        var refused = await Assert.ThrowsAsync<RpcException>(() => trickle.ResponseAsync);

        Assert.True(refused.StatusCode == StatusCode.DeadlineExceeded && refused.Status.Detail.Contains("Findings:Imports:MinBytesPerSecond", StringComparison.Ordinal),
            $"{refused.StatusCode}: {refused.Status.Detail}");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Folder, "imports")));
    }

    [Fact]
    public async Task An_upload_spooled_when_the_node_was_killed_is_gone_once_the_node_serves_again()
    {
        var data = Path.Combine(Folder, "node");
        await using var node = new NodeProcess("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database.Provider, Database.ConnectionString, data,
            [new("Broker:Transport", "InMemory")]);
        await node.StartAsync();
        var spool = Path.Combine(data, "imports");
        var findings = new FindingService.FindingServiceClient(node.Channel);
        using (var upload = findings.ImportInspectLog(await node.AuthAsync(TestClients.Submitter)))
        {
            await upload.RequestStream.WriteAsync(Options());
            await upload.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(new byte[1 << 20]) });
            await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any(f => new FileInfo(f).Length > 0)), "the upload is spooling");

            await node.KillAsync();
        }
        var left = Directory.GetFiles(spool);
        Assert.True(left.Length == 1, $"the kill was meant to leave the upload spooled: {left.Length} files");

        await node.StartAsync();

        Assert.Empty(Directory.EnumerateFiles(spool));
    }

    // Over HTTP/2 with prior knowledge: the node's endpoint speaks nothing else.
    private static async Task<Metadata> KestrelAuthAsync(Uri node)
    {
        using var http = new HttpClient { BaseAddress = node, DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http.PostAsync("connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = TestClients.Submitter,
            ["client_secret"] = TestClients.Secret(TestClients.Submitter),
        }));
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new() { { "authorization", $"Bearer {json.RootElement.GetProperty("access_token").GetString()}" } };
    }
}

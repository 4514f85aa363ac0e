using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>
/// Inspect imports take one of a few slots and wait for one only so long: the bound on what imports
/// take of a node's memory is the slots times what one import holds. Slots are held in memory: one
/// provider.
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
}

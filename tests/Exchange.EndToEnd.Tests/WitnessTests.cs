using System.Security.Cryptography;
using Exchange.Domain.Audit;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;

namespace Exchange.EndToEnd.Tests;

/// <summary>Peers witness each other's audit logs over the broker: they cosign what extends what they saw, and refuse forks.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class WitnessTests(RabbitNetworkFixture network)
{
    private async Task<GetCheckpointResponse> CheckpointAsync(string institute)
    {
        using var channel = network[institute].CreateChannel();
        try
        {
            return await new AuditService.AuditServiceClient(channel).GetCheckpointAsync(new GetCheckpointRequest(), await network[institute].AuthAsync(TestClients.Auditor));
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            return new GetCheckpointResponse();
        }
    }

    private NoteKey KeyOf(string institute)
    {
        var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(network.Manifest.Keys[institute].SigningPrivateKey, out _);
        return new NoteKey(AuditLogFormat.Origin(institute), key);
    }

    [Fact]
    public async Task The_peers_a_node_disclosed_to_cosign_its_checkpoints_and_the_cosignatures_verify()
    {
        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"]))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "us");
        await network.UntilDeliveredAsync("uk", id, "jp");

        GetCheckpointResponse checkpoint = null!;
        await Eventually.TrueAsync(async () => (checkpoint = await CheckpointAsync("uk")).CosignedBy.Intersect(["us", "jp"]).Count() == 2,
            "us and jp cosign a checkpoint of uk's log", TimeSpan.FromSeconds(60));

        Assert.True(SignedNote.TryParse(checkpoint.Note, out var note, out var problem), problem);
        Assert.True(NoteKey.VerifyNote(note!, [KeyOf("uk"), KeyOf("us"), KeyOf("jp")], out var signers, out problem), problem);
        Assert.Equal(["exchange-audit/jp", "exchange-audit/uk", "exchange-audit/us"], signers.Order());
        var witnessed = await network.QueryAsync("us", db => db.WitnessedCheckpoints.Where(w => w.Origin == "uk").ToListAsync());
        Assert.NotEmpty(witnessed);
    }

    [Fact]
    public async Task A_witness_refuses_a_second_history_and_records_why()
    {
        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "us");
        WitnessedCheckpointRecord? seen = null;
        await Eventually.TrueAsync(async () => (seen = await network.QueryAsync("us", db =>
            db.WitnessedCheckpoints.Where(w => w.Origin == "uk").OrderByDescending(w => w.Size).FirstOrDefaultAsync())) is not null, "us witnessed uk's log");

        // The same size under a different root, properly signed with uk's key: a fork.
        var forged = new Checkpoint(AuditLogFormat.Origin("uk"), seen!.Size, MerkleHash.Leaf("a different history"u8)).ToText();
        var fork = new CheckpointAnnouncement { Note = new SignedNote(forged, [KeyOf("uk").Sign(forged)]).ToNote(), PreviousSize = (ulong)seen.Size };
        await using var asUk = await EnvelopeInjector.ConnectAsAsync(network, "uk");
        await asUk.SendAsync("us", asUk.Keys.Seal("uk", "uk", "us", "us", EnvelopeKind.Checkpoint, fork, "", TlpLevel.Unspecified));

        // Waits for this fork's own alert: other tests of the class leave refused forks behind them.
        await Eventually.TrueAsync(async () => await network.QueryAsync("us", db => db.WitnessAlerts.AnyAsync(a => a.Origin == "uk" && a.AnnouncedNote == fork.Note)),
            "us raises an alert for the fork");
        Assert.Contains((await network.AuditAsync("us", AuditEventKind.CheckpointCosigned)),
            e => e.Outcome == DisclosureOutcome.Deny && e.Detail == $"refused to cosign size {seen.Size}: a second, different root for size {seen.Size}: the log forked");
        var stillSeen = await network.QueryAsync("us", db => db.WitnessedCheckpoints.SingleAsync(w => w.Origin == "uk" && w.Size == seen.Size));
        Assert.Equal(seen.RootHash, stillSeen.RootHash);
        // The alert: evidence kept (both signed notes), and the node reports itself degraded.
        var alert = await network.QueryAsync("us", db => db.WitnessAlerts.SingleAsync(a => a.Origin == "uk" && a.AnnouncedNote == fork.Note));
        Assert.Equal(fork.Note, alert.AnnouncedNote);
        Assert.Equal(seen.Note, alert.PreviousNote);
        using var http = network["us"].CreateClient();
        Assert.Equal("Degraded", await http.GetStringAsync("/healthz"));
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz/ready"));
    }

    [Fact]
    public async Task A_late_older_checkpoint_is_refused_as_stale_and_is_no_alert_but_an_older_fork_is()
    {
        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "us");
        List<WitnessedCheckpointRecord> witnessed = [];
        await Eventually.TrueAsync(async () => (witnessed = await network.QueryAsync("us", db =>
            db.WitnessedCheckpoints.Where(w => w.Origin == "uk").ToListAsync())).Count > 0, "us witnessed uk's log");
        var sizes = witnessed.Select(w => w.Size).ToHashSet();
        var oldest = witnessed.MinBy(w => w.Size)!;
        // An older size us never saw: the broker may deliver announcements late, so this is no evidence.
        var staleSize = Enumerable.Range(1, (int)witnessed.Max(w => w.Size)).Select(n => (long)n).First(n => !sizes.Contains(n));
        var alertsBefore = await network.QueryAsync("us", db => db.WitnessAlerts.CountAsync(a => a.Origin == "uk"));

        await using var asUk = await EnvelopeInjector.ConnectAsAsync(network, "uk");
        var stale = new Checkpoint(AuditLogFormat.Origin("uk"), staleSize, MerkleHash.Leaf("stale"u8)).ToText();
        await asUk.SendAsync("us", asUk.Keys.Seal("uk", "uk", "us", "us", EnvelopeKind.Checkpoint,
            new CheckpointAnnouncement { Note = new SignedNote(stale, [KeyOf("uk").Sign(stale)]).ToNote() }, "", TlpLevel.Unspecified));
        await Eventually.TrueAsync(async () => (await network.AuditAsync("us", AuditEventKind.CheckpointCosigned))
            .Any(e => e.Outcome == DisclosureOutcome.Deny && e.Detail.Contains($"stale: size {staleSize} ")), "us records the stale checkpoint as refused");
        Assert.Equal(alertsBefore, await network.QueryAsync("us", db => db.WitnessAlerts.CountAsync(a => a.Origin == "uk")));

        // A different root for a size us did cosign is a fork however old that size is.
        var forged = new Checkpoint(AuditLogFormat.Origin("uk"), oldest.Size, MerkleHash.Leaf("another history"u8)).ToText();
        var fork = new CheckpointAnnouncement { Note = new SignedNote(forged, [KeyOf("uk").Sign(forged)]).ToNote() };
        await asUk.SendAsync("us", asUk.Keys.Seal("uk", "uk", "us", "us", EnvelopeKind.Checkpoint, fork, "", TlpLevel.Unspecified));
        await Eventually.TrueAsync(async () => await network.QueryAsync("us", db => db.WitnessAlerts.AnyAsync(a => a.Origin == "uk" && a.AnnouncedNote == fork.Note)),
            "us raises an alert for the older fork");
        var alert = await network.QueryAsync("us", db => db.WitnessAlerts.SingleAsync(a => a.Origin == "uk" && a.AnnouncedNote == fork.Note));
        Assert.Equal(oldest.Note, alert.PreviousNote);
        Assert.Contains("forked", alert.Reason);
    }

    [Fact]
    public async Task A_witness_refuses_a_larger_checkpoint_whose_proof_does_not_extend_what_it_saw()
    {
        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Green, institutes: ["jp"]))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "jp");
        WitnessedCheckpointRecord? seen = null;
        await Eventually.TrueAsync(async () => (seen = await network.QueryAsync("jp", db =>
            db.WitnessedCheckpoints.Where(w => w.Origin == "uk").OrderByDescending(w => w.Size).FirstOrDefaultAsync())) is not null, "jp witnessed uk's log");

        var rewritten = new Checkpoint(AuditLogFormat.Origin("uk"), seen!.Size + 1000, MerkleHash.Leaf("rewritten"u8)).ToText();
        var announcement = new CheckpointAnnouncement
        {
            Note = new SignedNote(rewritten, [KeyOf("uk").Sign(rewritten)]).ToNote(),
            PreviousSize = (ulong)seen.Size,
            ConsistencyProof = { ByteString.CopyFrom(MerkleHash.Leaf("bogus"u8)) },
        };
        await using var asUk = await EnvelopeInjector.ConnectAsAsync(network, "uk");
        await asUk.SendAsync("jp", asUk.Keys.Seal("uk", "uk", "jp", "jp", EnvelopeKind.Checkpoint, announcement, "", TlpLevel.Unspecified));

        await Eventually.TrueAsync(async () => (await network.AuditAsync("jp", AuditEventKind.CheckpointCosigned))
            .Any(e => e.Outcome == DisclosureOutcome.Deny && e.Detail.Contains("rewritten")), "jp records the refused rewrite");
        Assert.False(await network.QueryAsync("jp", db => db.WitnessedCheckpoints.AnyAsync(w => w.Origin == "uk" && w.Size == seen.Size + 1000)));
    }
}

using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Cli.Tests;

/// <summary>
/// `exchange audit verify` against a node whose stored log is tampered with directly in its
/// database: each kind of tampering is caught and the entry named; undone, the log verifies again.
/// </summary>
public abstract class AuditVerifyTests(CliFixture fixture)
{
    private const string Node = "http://localhost/";
    private readonly string _config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));

    private Task<CliRun> Exchange(params string[] args) => fixture.RunAsync(_config, args);

    private async Task<CliRun> VerifyAsync() => await Exchange("audit", "verify", "--manifest", fixture.ManifestPath);

    private async Task<long> PrepareAsync()
    {
        await Exchange("login", "--node", Node, "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(0, (await Exchange("findings", "submit", "--file", "samples/finding.green.json")).ExitCode);
        }
        // Tampering must hit a log that nothing else is writing to: wait until the outbox is drained
        // (its sends add audit events) and every event is in the tree.
        await QuiesceAsync();
        var verified = await VerifyAsync();
        Assert.True(verified.ExitCode == 0, verified.Error + verified.Out);
        long size = 0;
        await fixture.WithDatabaseAsync(async db => size = await db.AuditEvents.CountAsync(e => e.LeafIndex != null));
        Assert.True(size >= 12, $"only {size} entries");
        return size;
    }

    private async Task QuiesceAsync()
    {
        var quiet = 0;
        for (var attempt = 0; attempt < 200 && quiet < 3; attempt++)
        {
            var busy = false;
            await fixture.WithDatabaseAsync(async db => busy =
                await db.AuditEvents.AnyAsync(e => e.LeafIndex == null) || await db.Outbox.AnyAsync(o => o.SentAt == null && o.CancelledAt == null));
            quiet = busy ? 0 : quiet + 1;
            await Task.Delay(250);
        }
        Assert.Equal(3, quiet);
    }

    private async Task AssertCaughtAsync(string expected)
    {
        var run = await VerifyAsync();
        Assert.Equal(7, run.ExitCode);
        Assert.Contains("does NOT verify", run.Error);
        Assert.Contains(expected, run.Error);
    }

    private async Task AssertVerifiesAsync()
    {
        var run = await VerifyAsync();
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("entries verified against", run.Out);
    }

    private Task ChangeAsync(long index, Action<AuditEventRecord> change) =>
        fixture.WithDatabaseAsync(async db =>
        {
            change(await db.AuditEvents.SingleAsync(e => e.LeafIndex == index));
            await db.SaveChangesAsync();
        });

    [Fact]
    public async Task An_edited_entry_is_named()
    {
        await PrepareAsync();
        byte[] original = [];
        await ChangeAsync(5, row =>
        {
            original = row.Entry!;
            var entry = AuditEntry.Parser.ParseFrom(row.Entry);
            entry.Event.Counterparty = "atlantis";
            row.Entry = entry.ToByteArray();
        });

        await AssertCaughtAsync("entry 5: altered");

        await ChangeAsync(5, row => row.Entry = original);
        await AssertVerifiesAsync();
    }

    [Fact]
    public async Task A_deleted_entry_is_named()
    {
        await PrepareAsync();
        AuditEventRecord? removed = null;
        await fixture.WithDatabaseAsync(async db =>
        {
            removed = await db.AuditEvents.AsNoTracking().SingleAsync(e => e.LeafIndex == 7);
            await db.AuditEvents.Where(e => e.LeafIndex == 7).ExecuteDeleteAsync();
        });

        await AssertCaughtAsync("entry 7: the entry found here claims index 8");

        await fixture.WithDatabaseAsync(async db =>
        {
            db.AuditEvents.Add(removed!);
            await db.SaveChangesAsync();
        });
        await AssertVerifiesAsync();
    }

    [Fact]
    public async Task Reordered_entries_are_named()
    {
        await PrepareAsync();
        byte[] third = [], fourth = [];
        await ChangeAsync(3, row => third = row.Entry!);
        await ChangeAsync(4, row => fourth = row.Entry!);
        await ChangeAsync(3, row => row.Entry = fourth);
        await ChangeAsync(4, row => row.Entry = third);

        await AssertCaughtAsync("entry 3: the entry found here claims index 4");

        await ChangeAsync(3, row => row.Entry = third);
        await ChangeAsync(4, row => row.Entry = fourth);
        await AssertVerifiesAsync();
    }

    [Fact]
    public async Task A_truncated_log_is_named()
    {
        var size = await PrepareAsync();
        List<AuditEventRecord> tail = [];
        await fixture.WithDatabaseAsync(async db =>
        {
            tail = await db.AuditEvents.AsNoTracking().Where(e => e.LeafIndex >= size - 3).ToListAsync();
            var ids = tail.Select(e => e.Id).ToList();
            await db.AuditEvents.Where(e => ids.Contains(e.Id)).ExecuteDeleteAsync();
        });

        await AssertCaughtAsync($"entry {size - 3}: missing");

        await fixture.WithDatabaseAsync(async db =>
        {
            db.AuditEvents.AddRange(tail);
            await db.SaveChangesAsync();
        });
        await AssertVerifiesAsync();
    }

    [Fact]
    public async Task An_exported_log_verifies_offline_and_an_edit_to_the_file_is_named()
    {
        await PrepareAsync();
        var file = Path.Combine(fixture.Directory, $"audit-{Guid.NewGuid():N}.jsonl");
        var export = await Exchange("audit", "export", "--out", file);
        Assert.True(export.ExitCode == 0, export.Error);

        var offline = await Exchange("audit", "verify", "--export", file, "--manifest", fixture.ManifestPath);
        Assert.True(offline.ExitCode == 0, offline.Error);

        var lines = File.ReadAllLines(file);
        var json = System.Text.Json.Nodes.JsonNode.Parse(lines[3])!;
        var entry = AuditEntry.Parser.ParseFrom(Convert.FromBase64String(json["entry"]!.GetValue<string>()));
        entry.Event.Label = TlpLevel.Clear;
        json["entry"] = Convert.ToBase64String(entry.ToByteArray());
        lines[3] = json.ToJsonString();
        File.WriteAllLines(file, lines);

        var tampered = await Exchange("audit", "verify", "--export", file, "--manifest", fixture.ManifestPath);
        Assert.Equal(7, tampered.ExitCode);
        Assert.Contains("entry 2: altered", tampered.Error);
    }

    [Fact]
    public async Task A_checkpoint_kept_earlier_must_match_and_a_doctored_one_is_refused()
    {
        await PrepareAsync();
        var kept = Path.Combine(fixture.Directory, $"kept-{Guid.NewGuid():N}.note");
        Assert.Equal(0, (await Exchange("audit", "checkpoint", "--fresh", "--out", kept)).ExitCode);
        await Exchange("findings", "submit", "--file", "samples/finding.green.json");

        var matching = await Exchange("audit", "verify", "--manifest", fixture.ManifestPath, "--checkpoint", kept);
        var lines = File.ReadAllLines(kept);
        lines[2] = Convert.ToBase64String(new byte[32]);
        File.WriteAllLines(kept, lines);
        var doctored = await Exchange("audit", "verify", "--manifest", fixture.ManifestPath, "--checkpoint", kept);

        Assert.True(matching.ExitCode == 0, matching.Error);
        Assert.Equal(7, doctored.ExitCode);
        Assert.Contains("is not a note signed by exchange-audit/uk", doctored.Error);
    }

    [Fact]
    public async Task An_auditor_with_audit_read_alone_exports_and_verifies_the_log()
    {
        await PrepareAsync();
        await Exchange("login", "--node", Node, "--client-id", TestClients.Auditor, "--client-secret", TestClients.Secret(TestClients.Auditor));
        var file = Path.Combine(fixture.Directory, $"export-{Guid.NewGuid():N}.jsonl");

        var export = await Exchange("audit", "export", "--out", file);
        var online = await Exchange("audit", "verify");
        var offline = await Exchange("audit", "verify", "--export", file, "--manifest", fixture.ManifestPath);

        Assert.True(export.ExitCode == 0, export.Error);
        Assert.True(online.ExitCode == 0, online.Error);
        Assert.True(offline.ExitCode == 0, offline.Error);
        Assert.Contains("verified", offline.Out);
    }

    [Fact]
    public async Task Audit_list_shows_entries_with_their_reasons()
    {
        await PrepareAsync();
        var run = await Exchange("audit", "list", "--kind", "DisclosureDecided", "--institute", "us");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches(@"DisclosureDecided\s+uk-\S+\s+1\s+GREEN\s+us\s+everything\s+allow\.community-member", run.Out);
        var bad = await Exchange("audit", "list", "--kind", "Nonsense");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("--kind: 'Nonsense'", bad.Error);
    }

    [Fact]
    public async Task Inclusion_and_consistency_are_verified_by_the_cli_against_the_manifest_key()
    {
        await PrepareAsync();
        var first = await Exchange("audit", "checkpoint", "--fresh", "-o", "json");
        var size = System.Text.Json.JsonDocument.Parse(first.Out).RootElement.GetProperty("size").GetString();
        await Exchange("findings", "submit", "--file", "samples/finding.amber.json");

        var proof = await Exchange("audit", "prove", "--entry", "3", "--manifest", fixture.ManifestPath);
        var consistency = await Exchange("audit", "consistency", "--from", size!, "--manifest", fixture.ManifestPath);

        Assert.True(proof.ExitCode == 0, proof.Error);
        Assert.Contains("entry 3", proof.Out);
        Assert.Contains("verified", proof.Out);
        Assert.True(consistency.ExitCode == 0, consistency.Error);
        Assert.Contains($"extends size {size} unchanged: verified", consistency.Out);
    }
}

public sealed class AuditVerifyTests_on_Sqlite(CliFixture fixture) : AuditVerifyTests(fixture), IClassFixture<CliFixture>;

public sealed class AuditVerifyTests_on_Postgres(PostgresCliFixture fixture) : AuditVerifyTests(fixture), IClassFixture<PostgresCliFixture>;

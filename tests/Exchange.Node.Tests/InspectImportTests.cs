using System.Security.Cryptography;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>ImportInspectLog through the real gRPC pipeline: uploads in chunks, on each database.</summary>
public abstract class InspectImportTests(NodeFixture fixture)
{
    private FindingService.FindingServiceClient Findings => fixture.Findings;

    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    private static InspectImportOptions Options(string fileName, TlpLevel level = TlpLevel.Green, bool dryRun = false, bool allowIncomplete = false) => new()
    {
        FileName = fileName,
        Label = new Label { Level = level },
        RiskDomain = RiskDomain.Cyber,
        Recipients = { "g7" },
        DryRun = dryRun,
        AllowIncomplete = allowIncomplete,
        RequestId = Guid.NewGuid().ToString("N"),
    };

    // Small chunks so every upload spans many messages.
    private async Task<ImportInspectLogResponse> ImportAsync(InspectImportOptions options, byte[] file, Metadata auth, int chunkSize = 1000)
    {
        using var call = Findings.ImportInspectLog(auth);
        try
        {
            await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Options = options });
            for (var at = 0; at < file.Length; at += chunkSize)
            {
                await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(file, at, Math.Min(chunkSize, file.Length - at)) });
            }
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception e) when (e is RpcException or InvalidOperationException)
        {
            // The node ended the call early; ResponseAsync carries its status.
        }
        return await call.ResponseAsync;
    }

    private async Task<(int Findings, int Submitted)> StoredAsync()
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        return (await db.Findings.CountAsync(), await db.AuditEvents.CountAsync(e => e.Kind == nameof(AuditEventKind.FindingSubmitted)));
    }

    [Theory]
    [InlineData("01_log_formats.json", false, "inspect_ai", RunStatus.Success)]
    [InlineData("02_log_formats.eval", false, "inspect_ai", RunStatus.Success)]
    [InlineData("03_cancelled_popularity.json", true, "inspect_ai", RunStatus.Cancelled)]
    [InlineData("05_v1_with_nan.json", false, "inspect_ai", RunStatus.Success)]
    public async Task Every_sample_log_maps_to_a_valid_finding_on_a_dry_run_and_nothing_is_stored(string file, bool allowIncomplete, string framework, RunStatus status)
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var before = await StoredAsync();

        var response = await ImportAsync(Options(file, dryRun: true, allowIncomplete: allowIncomplete), File.ReadAllBytes(Sample(file)), auth);

        Assert.Null(response.Submitted);
        Assert.Equal(framework, response.Finding.Content.Evaluation.Framework);
        Assert.Equal(status, response.Finding.Content.Evaluation.Status);
        Assert.NotEmpty(response.Finding.Content.Evaluation.Task);
        Assert.Equal(["g7"], response.Finding.Policy.RecipientGroups);
        Assert.Equal(["fr", "jp", "us"], response.Preview.Select(d => d.InstituteId).Order());
        Assert.Equal(before, await StoredAsync());
    }

    [Fact]
    public async Task An_import_stores_the_finding_with_the_log_named_by_its_hash_and_a_retry_replays_it()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var file = File.ReadAllBytes(Sample("02_log_formats.eval"));
        var options = Options("02_log_formats.eval", TlpLevel.Amber);
        options.Recipients.Add("us");
        var before = await StoredAsync();

        var imported = await ImportAsync(options, file, auth);
        var again = await ImportAsync(options, file, auth, chunkSize: 64);
        var read = await Findings.GetFindingAsync(new GetFindingRequest { Id = imported.Submitted.Finding.Id }, auth);

        Assert.False(imported.Submitted.Replayed);
        Assert.True(again.Submitted.Replayed);
        Assert.Equal(imported.Submitted.Finding.Id, again.Submitted.Finding.Id);
        Assert.Equal(imported.Finding.Content, read.Finding.Content);
        var artifact = read.Finding.Content.Artifacts.Single();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(file)), artifact.Sha256);
        Assert.Equal(file.Length, artifact.SizeBytes);
        Assert.Equal("02_log_formats.eval", artifact.Name);
        Assert.Equal(TlpLevel.Amber, read.Finding.Label.Level);
        Assert.Equal(DisclosureOutcome.Allow, imported.Submitted.Decisions.Single(d => d.InstituteId == "us").Outcome);
        Assert.Equal((before.Findings + 1, before.Submitted + 1), await StoredAsync());
    }

    public static TheoryData<string, Func<byte[], byte[]>> Damaged => new()
    {
        { "01_log_formats.json", b => b[..(b.Length / 2)] },
        { "02_log_formats.eval", b => b[..(b.Length - 100)] },
        { "02_log_formats.eval", b => { var c = (byte[])b.Clone(); c.AsSpan(200, 400).Fill(0x5a); return c; } },
        { "01_log_formats.json", b => [.. "{\"version\": 2, \"status\": \"success\", \"eval\": {"u8] },
        { "empty.json", _ => [] },
        { "photo.json", _ => [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
    };

    [Theory]
    [MemberData(nameof(Damaged))]
    public async Task A_corrupt_or_truncated_log_is_refused_with_a_clear_error_and_nothing_is_stored(string file, Func<byte[], byte[]> damage)
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var bytes = damage(File.Exists(Sample(file)) ? File.ReadAllBytes(Sample(file)) : []);
        var before = await StoredAsync();

        var e = await FailsWith(StatusCode.InvalidArgument, () => ImportAsync(Options(file), bytes, auth));

        Assert.Contains("chunk", e.FieldViolations().Keys);
        Assert.False(string.IsNullOrWhiteSpace(e.FieldViolations()["chunk"]));
        Assert.Equal(before, await StoredAsync());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Node.DataDirectory, "imports")));
    }

    [Fact]
    public async Task A_cancelled_run_is_refused_unless_incomplete_runs_are_allowed()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var file = File.ReadAllBytes(Sample("03_cancelled_popularity.json"));
        var before = await StoredAsync();

        var e = await FailsWith(StatusCode.FailedPrecondition, () => ImportAsync(Options("03_cancelled_popularity.json"), file, auth));
        var after = await StoredAsync();
        var allowed = await ImportAsync(Options("03_cancelled_popularity.json", allowIncomplete: true), file, auth);

        Assert.Contains("cancelled", e.Status.Detail);
        Assert.Contains("allow_incomplete", e.Status.Detail);
        Assert.Equal(before, after);
        Assert.Equal(RunStatus.Cancelled, allowed.Submitted.Finding.Content.Evaluation.Status);
    }

    [Fact]
    public async Task Bad_options_are_refused_by_field_before_the_file_is_read()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var options = Options("01_log_formats.json");
        options.RiskDomain = RiskDomain.Unspecified;
        options.Label = null;
        options.Recipients.Add("atlantis");

        var e = await FailsWith(StatusCode.InvalidArgument, () => ImportAsync(options, File.ReadAllBytes(Sample("01_log_formats.json")), auth));

        var fields = e.FieldViolations();
        Assert.Contains("options.risk_domain", fields.Keys);
        Assert.Contains("options.label.level", fields.Keys);
        Assert.Contains("'atlantis'", fields["options.recipients[1]"]);
    }

    [Fact]
    public async Task A_bad_policy_is_named_as_an_option_and_only_after_the_log_maps()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var options = Options("01_log_formats.json");
        options.Policy = new AccessPolicy { Purpose = new string('p', 501) };

        var e = await FailsWith(StatusCode.InvalidArgument, () => ImportAsync(options, File.ReadAllBytes(Sample("01_log_formats.json")), auth));

        Assert.Equal(["options.policy.purpose"], e.FieldViolations().Keys);
    }

    [Fact]
    public async Task The_upload_must_start_with_its_options()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        using var call = Findings.ImportInspectLog(auth);
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFromUtf8("{}") });
        await call.RequestStream.CompleteAsync();

        var e = await FailsWith(StatusCode.InvalidArgument, () => call.ResponseAsync);

        Assert.Contains("options", e.FieldViolations().Keys);
    }

    [Fact]
    public async Task Importing_needs_the_submit_scope()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Reader);
        await FailsWith(StatusCode.PermissionDenied, () => ImportAsync(Options("01_log_formats.json", dryRun: true), File.ReadAllBytes(Sample("01_log_formats.json")), auth));
    }
}

public sealed class InspectImportTests_on_Sqlite(SqliteNodeFixture fixture) : InspectImportTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class InspectImportTests_on_Postgres(PostgresNodeFixture fixture) : InspectImportTests(fixture), IClassFixture<PostgresNodeFixture>;

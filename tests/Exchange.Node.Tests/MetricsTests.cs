using System.Collections.Concurrent;
using System.Text;
using Exchange.Node.Telemetry;
using Exchange.Testing;
using Exchange.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>The node's metrics, as an operator's collector sees them: counted from what the audit log records.</summary>
public sealed class MetricsTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    [Fact]
    public async Task A_submission_is_counted_by_label_and_each_institute_the_policy_refused_by_peer()
    {
        using var recorder = new MetricsRecorder(fixture.Node.Services);
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);

        var response = await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, RiskDomain.ChemBio, institutes: ["us", "jp"]), auth);

        Assert.Equal(1, recorder.Sum("exchange.findings.submitted", t => t["exchange.label"] == nameof(TlpLevel.Amber)));
        var denied = response.Decisions.Where(d => d.Outcome == DisclosureOutcome.Deny).Select(d => d.InstituteId).Order().ToList();
        Assert.NotEmpty(denied);
        Assert.Equal(denied, recorder.Measurements
            .Where(m => m.Name == "exchange.disclosures.refused" && m.Tags["exchange.refused_by"] == "policy")
            .Select(m => m.Tags["exchange.peer"]!).Order().ToList());
    }

    [Fact]
    public async Task Events_saved_in_a_transaction_are_counted_when_it_commits_and_never_when_it_rolls_back()
    {
        using var recorder = new MetricsRecorder(fixture.Node.Services);
        long Counted(TlpLevel label) => recorder.Sum("exchange.findings.submitted", t => t["exchange.label"] == label.ToString());

        foreach (var commit in new[] { false, true })
        {
            var label = commit ? TlpLevel.Red : TlpLevel.AmberStrict;
            await using var scope = fixture.Node.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Exchange.Node.Persistence.NodeDbContext>();
            var audit = scope.ServiceProvider.GetRequiredService<Exchange.Node.Audit.AuditRecorder>();
            await using var transaction = await db.Database.BeginTransactionAsync();
            audit.Record(new AuditEvent { Kind = AuditEventKind.FindingSubmitted, Actor = "metrics-test", FindingId = $"uk-metrics-{commit}", Label = label });
            await db.SaveChangesAsync();

            Assert.Equal(0, Counted(label));
            if (commit)
            {
                await transaction.CommitAsync();
            }
            else
            {
                await transaction.RollbackAsync();
            }
            Assert.Equal(commit ? 1 : 0, Counted(label));
        }
    }

    [Fact]
    public async Task The_gauges_report_the_audit_log_size_and_the_unsent_outbox()
    {
        using var recorder = new MetricsRecorder(fixture.Node.Services);
        await Eventually.TrueAsync(() => Task.FromResult(recorder.Gauge("exchange.audit.size") is not null), "the first sample", TimeSpan.FromSeconds(30));
        var before = recorder.Gauge("exchange.audit.size")!.Value;

        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]), auth);

        // The submission adds entries (submitted, decided, sent): the gauge must move past where it was.
        await Eventually.TrueAsync(() => Task.FromResult(recorder.Gauge("exchange.audit.size") > before),
            () => $"the audit size gauge grows past {before} (now {recorder.Gauge("exchange.audit.size")})", TimeSpan.FromSeconds(60));
        await using var db = fixture.Database.Open();
        var size = (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(db.AuditHead)).Size;
        Assert.InRange(recorder.Gauge("exchange.audit.size")!.Value, before + 1, size + 100);
        // The outbox gauge counts what is unsent, which the in-memory transport drains to nothing.
        await Eventually.TrueAsync(async () => recorder.Gauge("exchange.outbox.depth") == await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(
                db.Outbox, o => o.SentAt == null && o.CancelledAt == null),
            "the outbox gauge agrees with the unsent rows", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Metrics_are_exported_over_otlp_to_the_configured_collector()
    {
        var received = new ConcurrentQueue<byte[]>();
        var port = NodeHost.FreePort();
        // A collector's OTLP/HTTP endpoint: plain HTTP/1.1 (not the node's HTTP/2 defaults, which
        // this test's content root would otherwise lend it).
        var collectorBuilder = WebApplication.CreateSlimBuilder();
        collectorBuilder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(System.Net.IPAddress.Loopback, port,
            listen => listen.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1));
        await using var collector = collectorBuilder.Build();
        collector.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            received.Enqueue(body.ToArray());
            return Results.Ok();
        });
        await collector.StartAsync();

        var directory = Path.Combine(fixture.Directory, "otlp-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, directory);
        await using var node = new NodeHost("uk", fixture.Manifest.WriteTo(directory), fixture.Manifest.Keys["uk"], database, directory,
            [new("Telemetry:OtlpEndpoint", $"http://127.0.0.1:{port}"), new("Telemetry:ExportInterval", "00:00:00.500")]);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);
        var auth = await node.AuthAsync(TestClients.Submitter);
        var submitted = 0;
        var lastSubmit = DateTime.MinValue;

        // OTLP is protobuf: names and attribute values travel as UTF-8 strings. A submission made
        // before the exporter subscribed to the meter on a loaded machine is not counted by it, so
        // one more goes in every two seconds until an export carries the counter.
        await Eventually.TrueAsync(async () =>
        {
            if (received.Any(body =>
                {
                    var text = Encoding.UTF8.GetString(body);
                    return text.Contains("exchange.findings.submitted") && text.Contains("exchange-node") && text.Contains("exchange.institute");
                }))
            {
                return true;
            }
            if (DateTime.UtcNow - lastSubmit > TimeSpan.FromSeconds(2))
            {
                await findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]), auth);
                submitted++;
                lastSubmit = DateTime.UtcNow;
            }
            return false;
        }, () => $"the collector received the node's metrics ({received.Count} exports so far, {submitted} submissions)", TimeSpan.FromSeconds(30));
        await collector.StopAsync();
    }
}

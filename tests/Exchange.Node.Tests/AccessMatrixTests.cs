using System.Text;
using Exchange.Domain;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Exchange.Node.Tests;

/// <summary>A node whose OAuth clients hold every subset of the scopes (TestClients.EveryScopeSet).</summary>
public abstract class AccessMatrixFixture : NodeFixture
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings =>
        TestClients.Settings(TestClients.EveryScopeSet, TestClients.ScopesByClient.Count);
}

public sealed class SqliteAccessMatrixFixture : AccessMatrixFixture
{
    protected override string Provider => TestDatabase.Sqlite;
}

public sealed class PostgresAccessMatrixFixture : AccessMatrixFixture
{
    protected override string Provider => TestDatabase.Postgres;
}

/// <summary>
/// The access rule as a matrix over every RPC and stream of the node's services (read from their
/// descriptors, so a new RPC joins by itself) × every set of scopes × every TLP label, on findings of
/// every kind this node holds (its own: active, superseded, withdrawn; a peer's: received, withdrawn,
/// held for an embargo). Each seeded version carries a unique marker in every free-text field (its
/// content, caveats, purpose, withdrawal reason); a response carries that version's content exactly
/// when its bytes hold the marker. The expected answer is written here independently of the node's rule.
/// </summary>
public abstract class AccessMatrixTests(AccessMatrixFixture fixture, ITestOutputHelper output)
{
    private static readonly Google.Protobuf.Reflection.ServiceDescriptor[] Services =
        [FindingService.Descriptor, SubscriptionService.Descriptor, AuditService.Descriptor, NetworkService.Descriptor];

    private static readonly TlpLevel[] Labels = [TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red];

    /// <summary>Request fields whose default (empty) value is a fair call: no filter, the first page, from the start.</summary>
    private static readonly HashSet<string> DefaultIsFine =
    [
        "page_token", "labels", "risk_domains", "model", "origin_institute", "origin_institutes", "submitted_after", "submitted_before",
        "received_after", "received_before", "after_cursor", "from_now", "heartbeat_seconds", "kinds", "institute", "from", "to",
        "size", "tree_size", "index", "first_size", "second_size", "start_index", "supersedes_finding_id", "options", "chunk",
    ];

    /// <summary>One seeded version: its marker appears in a response exactly when that response carries its content.</summary>
    private sealed record Seed(string Id, int Version, TlpLevel Label, bool Held, bool Current, string Marker)
    {
        public override string ToString() => $"{Label} {Id} v{Version}{(Held ? " (held)" : "")}";
    }

    private readonly List<Seed> _seeds = [];
    private int _markers;

    /// <summary>What the access rule allows, written out: content needs findings:read, RED also findings:read:red, and nothing held is shown.</summary>
    private static bool MayRead(IReadOnlyCollection<string> scopes, Seed seed) =>
        !seed.Held && scopes.Contains(Scopes.FindingsRead) && (seed.Label != TlpLevel.Red || scopes.Contains(Scopes.FindingsReadRed));

    [Fact]
    public async Task Content_leaves_the_node_exactly_when_the_access_rule_allows_and_every_read_above_green_is_audited()
    {
        await SeedAsync();
        var failures = new List<string>();
        var calls = 0;
        var callers = TestClients.EveryScopeSet.Select(c => (Name: c.Key, Scopes: (IReadOnlyCollection<string>)c.Value)).Prepend(("(no token)", []));
        foreach (var (client, scopes) in callers)
        {
            var headers = client == "(no token)" ? new Metadata() : await fixture.Node.AuthAsync(client);
            // Per RPC, the markers its answers carried over every target, for the exact checks below.
            var seen = new Dictionary<string, HashSet<Seed>>();
            foreach (var method in Services.SelectMany(s => s.Methods))
            {
                var shown = seen[method.FullName] = [];
                foreach (var target in Targets(method))
                {
                    var request = Request(method.InputType, target);
                    var lastEvent = await LastAuditEventIdAsync();
                    var (responses, status) = await CallAsync(method, request, headers);
                    calls++;
                    var carried = _seeds.Where(s => responses.Any(r => Contains(r, s.Marker))).ToList();
                    shown.UnionWith(carried);
                    var reads = await ReadsSinceAsync(lastEvent);
                    foreach (var seed in carried)
                    {
                        var where = $"{method.FullName}({Describe(request)}) as {client} [{string.Join(' ', scopes)}] returned the content of {seed}";
                        if (!MayRead(scopes, seed))
                        {
                            failures.Add($"{where}, which the rule does not allow");
                        }
                        if (method.Service == AuditService.Descriptor)
                        {
                            failures.Add($"{where}: audit entries carry no free text of a finding");
                        }
                        // A withdrawal reason is stored with every version of its label or above, so it may
                        // come back with another version of the finding than the one it was written for:
                        // the read entry names the version returned.
                        if (seed.Label.IsClassified() && !reads.Any(r => r.Actor == client && r.FindingId == seed.Id))
                        {
                            failures.Add($"{where} with no FindingRead audit entry recorded for it");
                        }
                    }
                    if (client == "(no token)" && status != StatusCode.Unauthenticated)
                    {
                        failures.Add($"{method.FullName} without a token answered {status}");
                    }
                }
            }
            // Exactly when: the reads of stored findings show every version the rule allows.
            foreach (var seed in _seeds.Where(s => MayRead(scopes, s)))
            {
                if (!seen["exchange.v1.FindingService.GetFinding"].Contains(seed))
                {
                    failures.Add($"GetFinding as {client} did not return {seed}, which the rule allows");
                }
                if (seed.Current && !seen["exchange.v1.FindingService.ListFindings"].Contains(seed))
                {
                    failures.Add($"ListFindings as {client} did not list {seed}, which the rule allows");
                }
                if (!seen["exchange.v1.SubscriptionService.Subscribe"].Contains(seed))
                {
                    failures.Add($"Subscribe as {client} did not stream {seed}, which the rule allows");
                }
            }
        }
        output.WriteLine($"{calls} calls, {_seeds.Count} seeded versions, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} of the checks over {calls} calls failed:{Environment.NewLine}{string.Join(Environment.NewLine, failures.Distinct().Take(60))}");
    }

    // Calls that name a finding are made once per seeded finding; the rest once.
    private IEnumerable<Seed?> Targets(MethodDescriptor method) =>
        method.InputType.Fields.InDeclarationOrder().Any(f => f.Name is "id" or "finding_id") ? _seeds.Cast<Seed?>() : new Seed?[] { null };

    private static IMessage Request(MessageDescriptor type, Seed? target)
    {
        var request = type.Parser.ParseFrom(ByteString.Empty);
        foreach (var field in type.Fields.InDeclarationOrder())
        {
            object? value = field.Name switch
            {
                "id" or "finding_id" => target?.Id ?? "",
                "version" => target?.Version ?? 0,
                "reason" => "withdrawn by the access matrix",
                "page_size" => 500,
                "include_withdrawn" => true,
                "fresh" => true,
                "request_id" => Guid.NewGuid().ToString("N"),
                "content" => SampleFindings.Valid().Content,
                "label" => new Label { Level = TlpLevel.Green },
                "policy" => new AccessPolicy(),
                _ when DefaultIsFine.Contains(field.Name) => null,
                _ => throw new InvalidOperationException(
                    $"The access matrix does not know how to fill {type.FullName}.{field.Name}: give it a value here, or add it to DefaultIsFine if empty is a fair call"),
            };
            if (value is not null)
            {
                field.Accessor.SetValue(request, value);
            }
        }
        return request;
    }

    /// <summary>Calls any method of the services with raw bytes, so one code path covers unary calls and streams alike.</summary>
    private async Task<(List<byte[]> Responses, StatusCode Status)> CallAsync(MethodDescriptor method, IMessage request, Metadata headers)
    {
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var raw = Marshallers.Create(b => b, b => b);
        var rpc = new Method<byte[], byte[]>(type, method.Service.FullName, method.Name, raw, raw);
        var invoker = fixture.Channel.CreateCallInvoker();
        var responses = new List<byte[]>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var options = new CallOptions(headers, cancellationToken: timeout.Token);
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    responses.Add(await invoker.AsyncUnaryCall(rpc, null, options, request.ToByteArray()));
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(rpc, null, options, request.ToByteArray()))
                    {
                        while (await call.ResponseStream.MoveNext(timeout.Token))
                        {
                            responses.Add(call.ResponseStream.Current);
                            // A stream that goes on for ever (the feed) is read up to where it says it caught up.
                            if (CaughtUp(method.OutputType, call.ResponseStream.Current))
                            {
                                break;
                            }
                        }
                    }
                    break;
                case MethodType.ClientStreaming:
                    using (var call = invoker.AsyncClientStreamingCall(rpc, null, options))
                    {
                        await call.RequestStream.WriteAsync(request.ToByteArray());
                        await call.RequestStream.CompleteAsync();
                        responses.Add(await call.ResponseAsync);
                    }
                    break;
                default:
                    throw new InvalidOperationException($"{method.FullName}: the access matrix has no way yet to call a duplex stream");
            }
            return (responses, StatusCode.OK);
        }
        catch (RpcException e)
        {
            // Refusals are fair answers; what matters is that they carry no content either.
            responses.Add(Encoding.UTF8.GetBytes(e.Status.Detail));
            return (responses, e.StatusCode);
        }
    }

    private static bool CaughtUp(MessageDescriptor type, byte[] bytes)
    {
        var message = type.Parser.ParseFrom(bytes);
        return message is SubscribeResponse { Heartbeat.CaughtUp: true };
    }

    private static bool Contains(byte[] haystack, string marker) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(marker)) >= 0;

    private static string Describe(IMessage request)
    {
        var text = request.ToString() ?? "";
        return text.Length > 120 ? text[..120] + "…" : text;
    }

    private async Task<long> LastAuditEventIdAsync()
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        return await db.AuditEvents.MaxAsync(e => (long?)e.Id) ?? 0;
    }

    private async Task<HashSet<(string Actor, string FindingId, int Version)>> ReadsSinceAsync(long lastEvent)
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var reads = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Id > lastEvent && e.Kind == nameof(AuditEventKind.FindingRead))
            .Select(e => e.Event)
            .ToListAsync();
        return reads.Select(AuditEvent.Parser.ParseFrom).Select(e => (e.Actor, e.FindingId, e.FindingVersion)).ToHashSet();
    }

    // ---- the findings: every label, every kind a node holds ----

    private async Task SeedAsync()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Everything);
        var envelopes = new TestEnvelopes(fixture.Manifest);
        foreach (var label in Labels)
        {
            // Ours: active; withdrawn with a reason; superseded by a RED version (which a reader without the RED scope may not see).
            var active = Marked(label, out var marker);
            var activeId = (await fixture.Findings.SubmitFindingAsync(active, auth)).Finding.Id;
            _seeds.Add(new(activeId, 1, label, Held: false, Current: true, marker));

            var withdrawn = Marked(label, out marker);
            var withdrawnId = (await fixture.Findings.SubmitFindingAsync(withdrawn, auth)).Finding.Id;
            await fixture.Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = withdrawnId, Reason = $"{marker}-reason" }, auth);
            _seeds.Add(new(withdrawnId, 1, label, Held: false, Current: true, marker));

            var first = Marked(label, out marker);
            var firstId = (await fixture.Findings.SubmitFindingAsync(first, auth)).Finding.Id;
            _seeds.Add(new(firstId, 1, label, Held: false, Current: false, marker));
            var second = Marked(TlpLevel.Red, out marker);
            second.SupersedesFindingId = firstId;
            await fixture.Findings.SubmitFindingAsync(second, auth);
            _seeds.Add(new(firstId, 2, TlpLevel.Red, Held: false, Current: true, marker));

            // A peer's: received; received then withdrawn with its reason; received under an embargo this node's clock has not reached.
            var received = TestEnvelopes.FindingFrom("us", Marked(label, out marker, recipient: "uk"));
            await fixture.Node.DeliverAsync(envelopes.Finding(received, "uk"));
            _seeds.Add(new(received.Id, 1, label, Held: false, Current: true, marker));

            var retracted = TestEnvelopes.FindingFrom("us", Marked(label, out marker, recipient: "uk"));
            await fixture.Node.DeliverAsync(envelopes.Finding(retracted, "uk"));
            await fixture.Node.DeliverAsync(envelopes.Withdrawal("us", "uk", retracted.Id, 1, label, $"{marker}-reason"));
            _seeds.Add(new(retracted.Id, 1, label, Held: false, Current: true, marker));

            // A peer's, superseded by a RED version and withdrawn with a reason written about that one.
            var chain = TestEnvelopes.FindingFrom("us", Marked(label, out marker, recipient: "uk"));
            await fixture.Node.DeliverAsync(envelopes.Finding(chain, "uk"));
            _seeds.Add(new(chain.Id, 1, label, Held: false, Current: false, marker));
            var redder = TestEnvelopes.FindingFrom("us", Marked(TlpLevel.Red, out marker, recipient: "uk"), id: chain.Id, version: 2);
            await fixture.Node.DeliverAsync(envelopes.Finding(redder, "uk"));
            await fixture.Node.DeliverAsync(envelopes.Withdrawal("us", "uk", chain.Id, 2, TlpLevel.Red, $"{marker}-reason"));
            _seeds.Add(new(chain.Id, 2, TlpLevel.Red, Held: false, Current: true, marker));

            var embargoed = Marked(label, out marker, recipient: "uk");
            embargoed.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddDays(30));
            var held = TestEnvelopes.FindingFrom("us", embargoed);
            await fixture.Node.DeliverAsync(envelopes.Finding(held, "uk"));
            _seeds.Add(new(held.Id, 1, label, Held: true, Current: false, marker));
        }
        // The feed and the audit queries read what the log has placed.
        await Eventually.TrueAsync(async () =>
        {
            await using var scope = fixture.Node.Services.CreateAsyncScope();
            return !await scope.ServiceProvider.GetRequiredService<NodeDbContext>().AuditEvents.AnyAsync(e => e.LeafIndex == null);
        }, "the audit log has placed every seeded event");
    }

    /// <summary>A valid finding with a unique marker in every free-text field.</summary>
    private SubmitFindingRequest Marked(TlpLevel label, out string marker, string recipient = "us")
    {
        marker = $"mk{Interlocked.Increment(ref _markers):D3}q";
        var request = SampleFindings.Valid(label, RiskDomain.Cyber, institutes: [recipient]);
        var c = request.Content;
        c.Title = $"{marker}-title";
        c.Summary = $"{marker}-summary";
        c.Narrative = $"{marker}-narrative";
        c.Model.Name = $"{marker}-model";
        c.Model.Developer = $"{marker}-developer";
        c.Evaluation.Task = $"{marker}-task";
        c.Evaluation.Dataset = $"{marker}-dataset";
        c.Metrics[0].Name = $"{marker}-metric";
        c.Artifacts[0].Name = $"{marker}-artifact.txt";
        request.Label.Caveats.Add($"{marker}-caveat");
        request.Policy.Purpose = $"{marker}-purpose";
        return request;
    }
}

public sealed class AccessMatrixTests_on_Sqlite(SqliteAccessMatrixFixture fixture, ITestOutputHelper output) : AccessMatrixTests(fixture, output), IClassFixture<SqliteAccessMatrixFixture>;

public sealed class AccessMatrixTests_on_Postgres(PostgresAccessMatrixFixture fixture, ITestOutputHelper output) : AccessMatrixTests(fixture, output), IClassFixture<PostgresAccessMatrixFixture>;

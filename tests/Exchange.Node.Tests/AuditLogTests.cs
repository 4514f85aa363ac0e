using System.Security.Cryptography;
using Exchange.Domain;
using Exchange.Domain.Audit;
using Exchange.Testing;
using Exchange.Transparency;
using Exchange.V1;
using Grpc.Core;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>The node's Merkle log through AuditService, checked with the pure verifier and the node's public key.</summary>
public abstract class AuditLogTests(NodeFixture fixture)
{
    private AuditService.AuditServiceClient Audit => new(fixture.Channel);

    private NoteKey LogKey
    {
        get
        {
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(fixture.Manifest.Keys["uk"].SigningPublicKey, out _);
            return new NoteKey(AuditLogFormat.Origin("uk"), key);
        }
    }

    private Checkpoint Verified(string note)
    {
        Assert.True(SignedNote.TryParse(note, out var signed, out var problem), problem);
        Assert.True(NoteKey.VerifyNote(signed!, [LogKey], out _, out problem), problem);
        Assert.True(Checkpoint.TryParse(signed!.Text, out var checkpoint, out problem), problem);
        return checkpoint!;
    }

    private async Task<List<AuditRecord>> AllAsync(Metadata auth, QueryAuditRequest? request = null)
    {
        request ??= new QueryAuditRequest();
        request.PageSize = 1000;
        var all = new List<AuditRecord>();
        QueryAuditResponse page;
        do
        {
            page = await Audit.QueryAsync(request, auth);
            all.AddRange(page.Records);
            request.PageToken = page.NextPageToken;
        }
        while (page.NextPageToken.Length > 0);
        return all;
    }

    [Fact]
    public async Task Every_event_gets_one_place_in_a_gapless_chained_log_and_every_inclusion_proof_verifies()
    {
        var submitter = await fixture.Node.AuthAsync(TestClients.Submitter);
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
            await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(i % 2 == 0 ? TlpLevel.Amber : TlpLevel.Green, institutes: ["us", "jp"]), submitter))));
        var auditor = await fixture.Node.AuthAsync(TestClients.Auditor);

        var checkpoint = Verified((await Audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auditor)).Note);
        var records = await AllAsync(auditor);

        Assert.True(records.Count >= checkpoint.Size);
        Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (ulong)i), records.Select(r => r.Index));
        byte[] previous = [];
        foreach (var record in records)
        {
            Assert.Equal(record.Index, record.Entry.Index);
            Assert.Equal(previous, record.Entry.PreviousLeafHash.ToByteArray());
            previous = MerkleHash.Leaf(record.EntryBytes.Span);
        }
        foreach (var record in records.Where(r => (long)r.Index < checkpoint.Size))
        {
            var proof = await Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = record.Index, TreeSize = (ulong)checkpoint.Size }, auditor);
            Assert.True(ProofVerifier.VerifyInclusion((long)record.Index, checkpoint.Size, MerkleHash.Leaf(record.EntryBytes.Span),
                [.. proof.Proof.Select(p => p.ToByteArray())], checkpoint.RootHash, out var problem), $"entry {record.Index}: {problem}");
        }
    }

    [Fact]
    public async Task Two_checkpoints_are_proven_consistent()
    {
        var submitter = await fixture.Node.AuthAsync(TestClients.Submitter);
        var auditor = await fixture.Node.AuthAsync(TestClients.Auditor);
        await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(), submitter);
        var first = Verified((await Audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auditor)).Note);
        await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), submitter);
        var second = Verified((await Audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auditor)).Note);

        var proof = await Audit.GetConsistencyProofAsync(new GetConsistencyProofRequest { FirstSize = (ulong)first.Size, SecondSize = (ulong)second.Size }, auditor);

        Assert.True(second.Size > first.Size);
        Assert.True(ProofVerifier.VerifyConsistency(first.Size, second.Size, first.RootHash, second.RootHash, [.. proof.Proof.Select(p => p.ToByteArray())], out var problem), problem);
        var old = await Audit.GetCheckpointAsync(new GetCheckpointRequest { Size = (ulong)first.Size }, auditor);
        Assert.Equal(first.RootHash, old.RootHash.ToByteArray());
    }

    [Fact]
    public async Task Entries_carry_ids_label_rule_and_a_salted_hash_but_never_the_content()
    {
        var submitter = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(TlpLevel.Amber, institutes: ["us"]);
        request.Content.Title = $"title-{Guid.NewGuid():N}";
        var id = (await fixture.Findings.SubmitFindingAsync(request, submitter)).Finding.Id;
        var auditor = await fixture.Node.AuthAsync(TestClients.Auditor);
        await Audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auditor);

        var records = await AllAsync(auditor, new QueryAuditRequest { FindingId = id });
        var decided = await AllAsync(auditor, new QueryAuditRequest { FindingId = id, Kinds = { AuditEventKind.DisclosureDecided }, Institute = "us" });

        Assert.All(records, r => Assert.Equal(id, r.Entry.Event.FindingId));
        Assert.All(records, r => Assert.Equal(TlpLevel.Amber, r.Entry.Event.Label));
        Assert.Contains(records, r => r.Entry.Event.Kind == AuditEventKind.FindingSubmitted && r.Entry.Event.ContentHash.Length == 32);
        Assert.DoesNotContain(records, r => r.EntryBytes.ToStringUtf8().Contains(request.Content.Title));
        var us = Assert.Single(decided);
        Assert.Equal("tlp.amber", us.Entry.Event.Reasons.Single().Rule);
        Assert.Equal("uk-us", us.Entry.Event.Reasons.Single().AgreementId);
    }

    [Fact]
    public async Task The_audit_service_needs_the_audit_scope()
    {
        var reader = await fixture.Node.AuthAsync(TestClients.Reader);
        var e = await FailsWith(StatusCode.PermissionDenied, () => Audit.QueryAsync(new QueryAuditRequest(), reader).ResponseAsync);
        Assert.Contains(Scopes.AuditRead, e.Status.Detail);
        await FailsWith(StatusCode.Unauthenticated, () => Audit.GetCheckpointAsync(new GetCheckpointRequest()).ResponseAsync);
    }

    [Fact]
    public async Task Proofs_for_entries_beyond_the_log_are_refused_with_the_field_named()
    {
        var auditor = await fixture.Node.AuthAsync(TestClients.Auditor);
        var checkpoint = await Audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auditor);
        var e = await FailsWith(StatusCode.InvalidArgument, () => Audit.GetInclusionProofAsync(new GetInclusionProofRequest { Index = checkpoint.Size + 10 }, auditor).ResponseAsync);
        Assert.Contains("index", e.FieldViolations().Keys);
    }
}

public sealed class AuditLogTests_on_Sqlite(SqliteNodeFixture fixture) : AuditLogTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class AuditLogTests_on_Postgres(PostgresNodeFixture fixture) : AuditLogTests(fixture), IClassFixture<PostgresNodeFixture>;

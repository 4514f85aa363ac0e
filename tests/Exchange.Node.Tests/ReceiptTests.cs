using System.Security.Cryptography;
using Exchange.Envelopes;
using Exchange.Node.Disclosure;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>
/// The origin's side of a receipt: a signed receipt acknowledges a disclosure only if it names the
/// SHA-256 of exactly the envelope the origin sent. Node "uk" sends; the test answers as "us".
/// </summary>
public sealed class ReceiptTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    // Every way a receipt can name other bytes than those sent, from the sent envelope's own hash.
    public static TheoryData<string> WrongHashes() => ["none", "zeros", "first bit flipped", "last bit flipped", "truncated", "another envelope sent to the same peer"];

    [Theory]
    [MemberData(nameof(WrongHashes))]
    public async Task A_receipt_naming_another_envelope_is_refused_audited_and_leaves_the_disclosure_unacknowledged(string wrong)
    {
        var sent = await SubmitToUsAsync();
        var other = await SubmitToUsAsync();
        var hash = SHA256.HashData(sent.Envelope);
        var named = wrong switch
        {
            "none" => [],
            "zeros" => new byte[32],
            "first bit flipped" => [(byte)(hash[0] ^ 0x80), .. hash[1..]],
            "last bit flipped" => [.. hash[..^1], (byte)(hash[^1] ^ 0x01)],
            "truncated" => hash[..16],
            _ => SHA256.HashData(other.Envelope),
        };

        var e = await Assert.ThrowsAsync<EnvelopeRejectedException>(() => ProcessAsync(ReceiptFromUs(sent, named)));

        Assert.StartsWith("receipt.envelope-mismatch", e.Message);
        Assert.Contains(Convert.ToHexStringLower(hash), e.Message);
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var row = await db.Outbox.AsNoTracking().SingleAsync(o => o.MessageId == sent.MessageId);
        Assert.Null(row.AnsweredAt);
        Assert.Null(row.Receipt);
        Assert.NotEqual((int)DeliveryState.Acknowledged, await DeliveryAsync(db, sent));
        var rejections = await db.AuditEvents.AsNoTracking().Where(a => a.FindingId == sent.FindingId && a.Kind == nameof(AuditEventKind.EnvelopeRejected)).ToListAsync();
        Assert.Contains(rejections, r => AuditEvent.Parser.ParseFrom(r.Event).Reasons.Any(c => c.Code == "receipt.envelope-mismatch"));

        // The genuine receipt still settles it: the refusal left the disclosure open, not broken.
        await ProcessAsync(ReceiptFromUs(sent, hash));
        Assert.Equal((int)DeliveryState.Acknowledged, await DeliveryAsync(db, sent));
    }

    private static Task<int> DeliveryAsync(NodeDbContext db, OutboxMessageRecord sent) =>
        db.Decisions.AsNoTracking().Where(d => d.FindingId == sent.FindingId && d.InstituteId == "us").Select(d => d.Delivery).SingleAsync();

    private async Task<OutboxMessageRecord> SubmitToUsAsync()
    {
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
        var id = (await fixture.Findings.SubmitFindingAsync(request, await fixture.Node.AuthAsync(TestClients.Submitter))).Finding.Id;
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Outbox.AsNoTracking().SingleAsync(o => o.FindingId == id && o.Recipient == "us");
    }

    private async Task ProcessAsync(byte[] envelope)
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<InboxProcessor>().ProcessAsync(envelope, CancellationToken.None);
    }

    // A receipt as "us" would send it, genuinely signed with its key and sealed to "uk".
    private byte[] ReceiptFromUs(OutboxMessageRecord sent, byte[] envelopeSha256)
    {
        var us = fixture.Manifest.Keys["us"];
        var uk = fixture.Manifest.Keys["uk"];
        using var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(us.SigningPrivateKey, out _);
        using var recipient = ECDiffieHellman.Create();
        recipient.ImportSubjectPublicKeyInfo(uk.EncryptionPublicKey, out _);
        var header = new EnvelopeHeader
        {
            MessageId = Guid.NewGuid().ToString("N"),
            Origin = "us",
            Recipient = "uk",
            Kind = EnvelopeKind.Receipt,
            FindingId = sent.FindingId ?? "",
            FindingVersion = sent.FindingVersion,
            Label = (TlpLevel)sent.Label,
        };
        var payload = new ReceiptPayload { MessageId = sent.MessageId, Accepted = true, ReasonCode = "accept", Reason = "stored", EnvelopeSha256 = ByteString.CopyFrom(envelopeSha256) };
        return new EnvelopeSealer(signing, KeyIds.Of(us.SigningPublicKey)).Seal(header, payload.ToByteArray(), recipient, KeyIds.Of(uk.EncryptionPublicKey));
    }
}

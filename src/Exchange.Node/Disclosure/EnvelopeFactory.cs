using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

/// <summary>Seals what this node sends into envelopes, one per recipient, ready for the outbox.</summary>
public sealed class EnvelopeFactory(NodeKeyRing keys, PeerDirectory peers, TimeProvider time, IOptions<NodeOptions> node)
{
    private string Self => node.Value.InstituteId;

    public OutboxMessageRecord Finding(Finding finding, DisclosureDecision decision)
    {
        var payload = new FindingPayload { Finding = finding, Decision = decision };
        return Seal(decision.InstituteId, EnvelopeKind.Finding, finding.Id, finding.Version, finding.Label.Level, payload);
    }

    public OutboxMessageRecord Withdrawal(string recipient, string findingId, int version, TlpLevel label, string reason, DateTimeOffset withdrawnAt) =>
        Seal(recipient, EnvelopeKind.Withdrawal, findingId, version, label, new WithdrawalPayload
        {
            FindingId = findingId,
            FindingVersion = version,
            Reason = reason,
            WithdrawnAt = Timestamp.FromDateTimeOffset(withdrawnAt),
        });

    /// <summary>The signed receipt for a received finding or withdrawal; <see cref="OutboxMessageRecord.Answers"/> names what it answers.</summary>
    public OutboxMessageRecord Receipt(EnvelopeHeader received, byte[] envelopeSha256, bool accepted, string reasonCode, string reason)
    {
        var receipt = Seal(received.Origin, EnvelopeKind.Receipt, received.FindingId, received.FindingVersion, received.Label, new ReceiptPayload
        {
            MessageId = received.MessageId,
            Accepted = accepted,
            ReasonCode = reasonCode,
            Reason = reason,
            ReceivedAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
            EnvelopeSha256 = ByteString.CopyFrom(envelopeSha256),
        });
        receipt.Answers = received.MessageId;
        return receipt;
    }

    public OutboxMessageRecord Announcement(string recipient, CheckpointAnnouncement announcement) =>
        Seal(recipient, EnvelopeKind.Checkpoint, "", 0, TlpLevel.Unspecified, announcement);

    public OutboxMessageRecord Cosignature(string recipient, CheckpointCosignature cosignature) =>
        Seal(recipient, EnvelopeKind.Cosignature, "", 0, TlpLevel.Unspecified, cosignature);

    private OutboxMessageRecord Seal(string recipient, EnvelopeKind kind, string findingId, int version, TlpLevel label, IMessage payload)
    {
        var peer = peers.Get(recipient);
        var now = time.GetUtcNow();
        var messageId = Guid.CreateVersion7(now).ToString("N");
        var header = new EnvelopeHeader
        {
            MessageId = messageId,
            Origin = Self,
            Recipient = recipient,
            Kind = kind,
            FindingId = findingId,
            FindingVersion = version,
            Label = label,
            CreatedAt = Timestamp.FromDateTimeOffset(now),
        };
        return new OutboxMessageRecord
        {
            MessageId = messageId,
            Recipient = recipient,
            Kind = (int)kind,
            FindingId = findingId,
            FindingVersion = version,
            Label = (int)label,
            Envelope = keys.Sealer.Seal(header, payload.ToByteArray(), peer.Encryption, peer.EncryptionKeyId),
            CreatedAt = now,
            NextAttemptAt = now,
        };
    }
}

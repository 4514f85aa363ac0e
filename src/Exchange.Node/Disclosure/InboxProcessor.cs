using System.Security.Cryptography;
using Exchange.Domain.Policy;
using Exchange.Domain.Text;
using Exchange.Envelopes;
using Exchange.Node.Audit;
using Exchange.Node.Findings;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

/// <summary>
/// What happens to an envelope that reaches this node's queue: verify the signature against the
/// manifest, check it is addressed to us, decrypt, drop it if its message id was seen before, and
/// then, in one transaction: a finding is re-checked against our own copy of the agreements and
/// stored or refused; a withdrawal withdraws; a receipt settles what we sent, if it names the
/// SHA-256 of exactly the envelope we sent (otherwise it is refused). Each outcome is
/// audited, and findings and withdrawals are answered with a signed receipt through our outbox.
/// </summary>
public sealed class InboxProcessor(
    NodeDbContext db,
    NodeKeyRing keys,
    PeerDirectory peers,
    DisclosurePolicy policy,
    FindingProtector protector,
    EnvelopeFactory envelopes,
    AuditRecorder audit,
    Witnessing witnessing,
    HeldFindings held,
    OutboxSignal signal,
    TimeProvider time,
    IOptions<NodeOptions> node,
    ILogger<InboxProcessor> logger)
{
    private string Self => node.Value.InstituteId;

    public async Task ProcessAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        var opener = new EnvelopeOpener(Self, peers.SigningKey, keys.DecryptionKey);
        var result = opener.Open(bytes);
        if (result.Rejection is { } rejection)
        {
            await RejectAsync(rejection.Code, rejection.Detail, result.Header, cancellationToken);
            return;
        }
        var opened = result.Opened!;
        var header = opened.Header;
        if (await db.Inbox.AnyAsync(i => i.MessageId == header.MessageId, cancellationToken))
        {
            await RecordDuplicateAsync(header, cancellationToken);
            return;
        }
        switch (header.Kind)
        {
            case EnvelopeKind.Finding:
                await ReceiveFindingAsync(opened, cancellationToken);
                break;
            case EnvelopeKind.Withdrawal:
                await ReceiveWithdrawalAsync(opened, cancellationToken);
                break;
            case EnvelopeKind.Receipt:
                await ReceiveReceiptAsync(opened, bytes, cancellationToken);
                break;
            case EnvelopeKind.Checkpoint:
                var announcement = await ParseAsync(CheckpointAnnouncement.Parser, opened, cancellationToken);
                var answer = await witnessing.WitnessAsync(header.Origin, announcement, header.MessageId, cancellationToken);
                db.Inbox.Add(InboxRow(opened, answer.Cosigned ? "cosigned" : "refused: not cosigned"));
                db.Outbox.Add(envelopes.Cosignature(header.Origin, answer));
                break;
            case EnvelopeKind.Cosignature:
                var cosignature = await ParseAsync(CheckpointCosignature.Parser, opened, cancellationToken);
                await witnessing.ReceiveCosignatureAsync(header.Origin, cosignature, cancellationToken);
                db.Inbox.Add(InboxRow(opened, cosignature.Cosigned ? "cosigned" : "refused"));
                break;
            default:
                await RejectAsync("envelope.unknown-kind", $"kind {header.Kind} is not handled by this node", header, cancellationToken);
                break;
        }
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same envelope delivered twice at once: if the other delivery stored it, this is a duplicate.
            if (!await IsDuplicateAfterRaceAsync(header.MessageId, cancellationToken))
            {
                throw;
            }
            await RecordDuplicateAsync(header, cancellationToken);
            return;
        }
        signal.Notify();
    }

    private async Task ReceiveFindingAsync(OpenedEnvelope opened, CancellationToken cancellationToken)
    {
        var header = opened.Header;
        var payload = await ParseAsync(FindingPayload.Parser, opened, cancellationToken);
        var finding = payload.Finding;
        if (finding is null || finding.Id != header.FindingId || finding.Version != header.FindingVersion
            || finding.OriginInstitute != header.Origin || finding.Label?.Level != header.Label || !IsIdOf(header.Origin, finding.Id))
        {
            await RejectAsync("payload.inconsistent", "the finding inside does not match the envelope's header", header, cancellationToken);
            return;
        }

        if (await WithdrawnBeforeDeliveryAsync(header, cancellationToken))
        {
            Settle(opened, accepted: false, "refuse.withdrawn", "the origin withdrew this finding before it arrived");
            return;
        }

        var now = time.GetUtcNow();
        // Our own copy of the agreements decides, whatever the origin decided.
        var decision = policy.DecideFor(DisclosureSubject.From(finding) with { Withdrawn = false }, Self, now);
        if (!decision.Permits)
        {
            var refused = new AuditEvent
            {
                Kind = AuditEventKind.DisclosureRefused,
                Actor = header.Origin,
                FindingId = finding.Id,
                FindingVersion = finding.Version,
                Label = finding.Label.Level,
                Counterparty = header.Origin,
                Outcome = DisclosureOutcome.Deny,
                MessageId = header.MessageId,
                Detail = decision.Reasons[0].Detail,
            };
            refused.Reasons.AddRange(decision.Reasons.Select(r => r.ToAudit()));
            audit.Record(refused);
            logger.LogWarning("Refused {FindingId} v{Version} from {Origin}: {Reason}", finding.Id, finding.Version, header.Origin, decision.Reasons[0].Code);
            Settle(opened, accepted: false, decision.Reasons[0].Code, decision.Reasons[0].Detail);
            return;
        }

        var existing = await db.Findings.Where(f => f.Id == finding.Id).ToListAsync(cancellationToken);
        if (existing.Any(f => f.OriginInstitute != header.Origin))
        {
            await RejectAsync("payload.foreign-id", $"finding id '{finding.Id}' belongs to another origin", header, cancellationToken);
            return;
        }
        if (existing.All(f => f.Version != finding.Version))
        {
            // Held here until its embargo passes on our clock: stored, but not current and shown to
            // no one until HeldFindings releases it.
            var holdUntil = held.HoldUntil(finding, now);
            var newest = existing.All(f => f.Version < finding.Version);
            var isCurrent = holdUntil is null && newest;
            if (isCurrent)
            {
                foreach (var current in existing.Where(f => f.IsCurrent))
                {
                    current.IsCurrent = false;
                    if (current.State == (int)FindingState.Active)
                    {
                        current.State = (int)FindingState.Superseded;
                    }
                }
            }
            finding.State = newest ? FindingState.Active : FindingState.Superseded;
            finding.ReceivedAt = Timestamp.FromDateTimeOffset(now);
            finding.Policy ??= new AccessPolicy();
            finding.Policy.NoRedistribution |= decision.NoRedistribution;
            var record = finding.ToRecord(protector.Protect(finding, out var contentHash), requestId: null, requestHash: null);
            record.IsCurrent = isCurrent;
            record.HeldUntil = holdUntil;
            db.Findings.Add(record);
            audit.Record(new AuditEvent
            {
                Kind = AuditEventKind.FindingReceived,
                Actor = header.Origin,
                FindingId = finding.Id,
                FindingVersion = finding.Version,
                Label = finding.Label.Level,
                Counterparty = header.Origin,
                // SCHEDULED: held here; the feed shows it where it is released (FindingReleased).
                Outcome = holdUntil is null ? DisclosureOutcome.Allow : DisclosureOutcome.Scheduled,
                MessageId = header.MessageId,
                ContentHash = ByteString.CopyFrom(contentHash),
                Reasons = { decision.Reasons.Select(r => r.ToAudit()) },
            });
        }
        Settle(opened, accepted: true, "accept", "stored");
    }

    private async Task ReceiveWithdrawalAsync(OpenedEnvelope opened, CancellationToken cancellationToken)
    {
        var header = opened.Header;
        var payload = await ParseAsync(WithdrawalPayload.Parser, opened, cancellationToken);
        if (payload.FindingId != header.FindingId || !IsIdOf(header.Origin, payload.FindingId))
        {
            await RejectAsync("payload.inconsistent", "the withdrawal does not match the envelope's header", header, cancellationToken);
            return;
        }
        var records = await db.Findings
            .Where(f => f.Id == payload.FindingId && f.OriginInstitute == header.Origin && f.Version <= payload.FindingVersion)
            .ToListAsync(cancellationToken);
        var reason = payload.Reason.Length > 1000 ? payload.Reason[..1000] : payload.Reason;
        foreach (var record in records.Where(r => r.State != (int)FindingState.Withdrawn))
        {
            record.State = (int)FindingState.Withdrawn;
            record.WithdrawnAt = payload.WithdrawnAt?.ToDateTimeOffset() ?? time.GetUtcNow();
            // The origin's words, sealed like the finding they are about, and kept only with versions
            // labelled at least as high as the withdrawal: a reason written about a RED version must
            // not be read through an earlier AMBER one by someone without the RED scope.
            if (record.Label >= (int)header.Label)
            {
                record.ProtectedWithdrawalReason = protector.ProtectReason(reason);
            }
        }
        audit.Record(AuditEvents.Withdrawn(header.Origin, payload.FindingId, payload.FindingVersion, header.Label,
            counterparty: header.Origin, messageId: header.MessageId, note: records.Count == 0 ? "withdrawn before delivery" : null));
        // Kept in the inbox even when nothing was here yet: a finding that arrives after its
        // withdrawal is refused (WithdrawnBeforeDeliveryAsync).
        Settle(opened, accepted: true, "accept", records.Count == 0 ? "nothing held; recorded" : "withdrawn");
    }

    private async Task ReceiveReceiptAsync(OpenedEnvelope opened, byte[] bytes, CancellationToken cancellationToken)
    {
        var header = opened.Header;
        var receipt = await ParseAsync(ReceiptPayload.Parser, opened, cancellationToken);
        // Only the recipient of a message may answer for it.
        var sent = await db.Outbox.SingleOrDefaultAsync(o => o.MessageId == receipt.MessageId && o.Recipient == header.Origin, cancellationToken);
        if (sent is null)
        {
            await RejectAsync("receipt.unknown-message", $"no message '{receipt.MessageId}' was sent to '{header.Origin}'", header, cancellationToken);
            return;
        }
        // A receipt acknowledges exactly the bytes we sent, or nothing: one that names another
        // envelope is refused and the disclosure stays unacknowledged.
        var sentSha256 = SHA256.HashData(sent.Envelope);
        if (!receipt.EnvelopeSha256.Span.SequenceEqual(sentSha256))
        {
            await RejectAsync("receipt.envelope-mismatch",
                $"the receipt for message '{receipt.MessageId}' names envelope {Convert.ToHexStringLower(receipt.EnvelopeSha256.Span)}, " +
                $"but the envelope sent to '{header.Origin}' has SHA-256 {Convert.ToHexStringLower(sentSha256)}", header, cancellationToken);
            return;
        }
        db.Inbox.Add(InboxRow(opened, receipt.Accepted ? "accepted" : "refused"));
        if (sent.AnsweredAt is not null)
        {
            return;
        }
        sent.AnsweredAt = time.GetUtcNow();
        sent.ResendAt = null;
        sent.Accepted = receipt.Accepted;
        sent.AnswerReason = receipt.Accepted ? null : ColumnText.Fit($"{receipt.ReasonCode}: {receipt.Reason}", 2000);
        sent.Receipt = bytes;
        var entry = new AuditEvent
        {
            Kind = receipt.Accepted ? AuditEventKind.DisclosureAcknowledged : AuditEventKind.DisclosureRefusedByPeer,
            Actor = header.Origin,
            FindingId = sent.FindingId ?? "",
            FindingVersion = sent.FindingVersion,
            Label = (TlpLevel)sent.Label,
            Counterparty = header.Origin,
            MessageId = sent.MessageId,
            Detail = (EnvelopeKind)sent.Kind == EnvelopeKind.Finding ? receipt.Reason : $"{(EnvelopeKind)sent.Kind}: {receipt.Reason}",
        };
        if (!receipt.Accepted)
        {
            entry.Reasons.Add(new AuditReason { Code = receipt.ReasonCode });
        }
        audit.Record(entry);
        if ((EnvelopeKind)sent.Kind != EnvelopeKind.Finding)
        {
            return;
        }
        var decision = await db.Decisions.SingleOrDefaultAsync(
            d => d.FindingId == sent.FindingId && d.FindingVersion == sent.FindingVersion && d.InstituteId == sent.Recipient, cancellationToken);
        if (decision is not null)
        {
            decision.Delivery = (int)(receipt.Accepted ? DeliveryState.Acknowledged : DeliveryState.Refused);
            decision.UpdatedAt = sent.AnsweredAt.Value;
        }
    }

    // The inbox row and the signed receipt back to the origin, in the same transaction as the outcome.
    private void Settle(OpenedEnvelope opened, bool accepted, string code, string reason)
    {
        db.Inbox.Add(InboxRow(opened, accepted ? "accepted" : $"refused: {code}"));
        db.Outbox.Add(envelopes.Receipt(opened.Header, opened.Sha256, accepted, code, reason));
    }

    private InboxMessageRecord InboxRow(OpenedEnvelope opened, string outcome) => new()
    {
        MessageId = opened.Header.MessageId,
        Origin = opened.Header.Origin,
        Kind = (int)opened.Header.Kind,
        FindingId = opened.Header.FindingId,
        FindingVersion = opened.Header.FindingVersion,
        ReceivedAt = time.GetUtcNow(),
        Outcome = TextCut.Cut(outcome, 200),
        EnvelopeSha256 = opened.Sha256,
    };

    private Task<bool> WithdrawnBeforeDeliveryAsync(EnvelopeHeader header, CancellationToken cancellationToken) =>
        db.Inbox.AnyAsync(i => i.Kind == (int)EnvelopeKind.Withdrawal && i.Origin == header.Origin
                               && i.FindingId == header.FindingId && i.FindingVersion >= header.FindingVersion, cancellationToken);

    private async Task<T> ParseAsync<T>(MessageParser<T> parser, OpenedEnvelope opened, CancellationToken cancellationToken) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(opened.Payload);
        }
        catch (InvalidProtocolBufferException e)
        {
            await RejectAsync("payload.malformed", e.Message, opened.Header, cancellationToken);
            throw;
        }
    }

    /// <summary>
    /// An envelope seen before is dropped, and audited as such. If it is one we answer with a receipt,
    /// the origin is sending it again because our receipt never reached it: the receipt we sent is
    /// sent again (the same message, so an origin that did get it drops the copy).
    /// </summary>
    private async Task RecordDuplicateAsync(EnvelopeHeader header, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var answeredAgain = false;
        if (header.Kind is EnvelopeKind.Finding or EnvelopeKind.Withdrawal)
        {
            var now = time.GetUtcNow();
            var receipts = db.Outbox.Where(o => o.Answers == header.MessageId && o.Recipient == header.Origin);
            answeredAgain = await receipts.Where(o => o.SentAt != null)
                .ExecuteUpdateAsync(u => u.SetProperty(o => o.ResendAt, now), cancellationToken) > 0;
            if (!answeredAgain && !await receipts.AnyAsync(cancellationToken))
            {
                // Received before receipts named what they answer (or the receipt row is gone):
                // answer again from the inbox row, which kept the outcome and the envelope's hash.
                answeredAgain = await AnswerAgainFromInboxAsync(header, cancellationToken);
            }
        }
        await audit.RecordNowAsync(new AuditEvent
        {
            Kind = AuditEventKind.DuplicateDropped,
            Actor = header.Origin,
            FindingId = header.FindingId,
            FindingVersion = header.FindingVersion,
            Label = header.Label,
            Counterparty = header.Origin,
            MessageId = header.MessageId,
            Detail = answeredAgain
                ? $"{header.Kind} envelope seen before; dropped, and our receipt for it sent again"
                : $"{header.Kind} envelope seen before; dropped",
        }, cancellationToken);
        if (answeredAgain)
        {
            signal.Notify();
        }
    }

    private async Task<bool> AnswerAgainFromInboxAsync(EnvelopeHeader header, CancellationToken cancellationToken)
    {
        var first = await db.Inbox.AsNoTracking().SingleOrDefaultAsync(i => i.MessageId == header.MessageId && i.Origin == header.Origin, cancellationToken);
        if (first?.EnvelopeSha256 is not { Length: > 0 } sha256)
        {
            return false;
        }
        var accepted = first.Outcome == "accepted";
        var code = accepted ? "accept" : first.Outcome.StartsWith("refused: ", StringComparison.Ordinal) ? first.Outcome["refused: ".Length..] : "refuse.unknown";
        db.Outbox.Add(envelopes.Receipt(header, sha256, accepted, code, "answered again: the first receipt did not reach the origin"));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// A finding id is its origin's id, '-', and 32 lower-case hex digits (FindingStore). A prefix
    /// test alone would let "uk" claim ids of "uk-ai" ("uk-ai-…" starts with "uk-").
    /// </summary>
    internal static bool IsIdOf(string origin, string findingId) =>
        findingId.Length == origin.Length + 33 && findingId.StartsWith(origin + "-", StringComparison.Ordinal)
        && findingId.AsSpan(origin.Length + 1).IndexOfAnyExcept("0123456789abcdef") < 0;

    private async Task<bool> IsDuplicateAfterRaceAsync(string messageId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return await db.Inbox.AnyAsync(i => i.MessageId == messageId, cancellationToken);
    }

    /// <summary>Records the refusal on its own (nothing else of the envelope is kept) and dead-letters it.</summary>
    private async Task RejectAsync(string code, string detail, EnvelopeHeader? header, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        await audit.RecordNowAsync(new AuditEvent
        {
            Kind = AuditEventKind.EnvelopeRejected,
            Actor = header?.Origin ?? "",
            FindingId = header?.FindingId ?? "",
            FindingVersion = header?.FindingVersion ?? 0,
            Label = header?.Label ?? TlpLevel.Unspecified,
            Counterparty = header?.Origin ?? "",
            MessageId = header?.MessageId ?? "",
            Reasons = { new AuditReason { Code = code } },
            Detail = TextCut.Cut(detail, 500),
        }, cancellationToken);
        logger.LogWarning("Rejected an envelope (claimed origin {Origin}, message {MessageId}): {Code}: {Detail}", header?.Origin, header?.MessageId, code, detail);
        throw new EnvelopeRejectedException(code, detail);
    }
}

using Exchange.Domain.Audit;
using Exchange.Node.Disclosure;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Audit;

/// <summary>
/// Each node witnesses the logs of the peers that disclose to it: it cosigns a peer's checkpoint only
/// after checking that it extends, by a consistency proof, the last one it cosigned, so no node can
/// show two histories to the peers it shares with. As an origin, it announces new checkpoints to the
/// peers it disclosed to and keeps their cosignatures beside its own.
/// </summary>
public sealed class Witnessing(
    NodeDbContext db,
    AuditLog log,
    EnvelopeFactory envelopes,
    PeerDirectory peers,
    AuditRecorder audit,
    OutboxSignal outbox,
    TimeProvider time,
    IOptions<NodeOptions> node,
    ILogger<Witnessing> logger)
{
    public async Task AnnounceAsync(AuditCheckpointRecord checkpoint, CancellationToken cancellationToken)
    {
        var disclosedTo = await db.Outbox.Where(o => o.Kind == (int)EnvelopeKind.Finding).Select(o => o.Recipient).Distinct().ToListAsync(cancellationToken);
        var progress = await db.WitnessProgress.ToDictionaryAsync(p => p.Witness, cancellationToken);
        foreach (var witness in disclosedTo)
        {
            if (!progress.TryGetValue(witness, out var state))
            {
                state = new WitnessProgressRecord { Witness = witness };
                db.WitnessProgress.Add(state);
            }
            if (state.AnnouncedSize >= checkpoint.Size)
            {
                continue;
            }
            var announcement = new CheckpointAnnouncement { Note = checkpoint.Note, PreviousSize = (ulong)state.CosignedSize };
            if (state.CosignedSize > 0 && state.CosignedSize < checkpoint.Size)
            {
                var (proof, _, _) = await log.ConsistencyProofAsync(state.CosignedSize, checkpoint.Size, cancellationToken);
                announcement.ConsistencyProof.AddRange(proof.Select(ByteString.CopyFrom));
            }
            db.Outbox.Add(envelopes.Announcement(witness, announcement));
            state.AnnouncedSize = checkpoint.Size;
            state.UpdatedAt = time.GetUtcNow();
        }
        await db.SaveChangesAsync(cancellationToken);
        outbox.Notify();
    }

    /// <summary>As a witness: check a peer's checkpoint against the last one we cosigned, and answer.</summary>
    public async Task<CheckpointCosignature> WitnessAsync(string origin, CheckpointAnnouncement announcement, string messageId, CancellationToken cancellationToken)
    {
        var peerKey = NoteKey.FromPublicKey(AuditLogFormat.Origin(origin), peers.Get(origin).Signing.ExportSubjectPublicKeyInfo());
        var last = await db.WitnessedCheckpoints.Where(w => w.Origin == origin).OrderByDescending(w => w.Size).FirstOrDefaultAsync(cancellationToken);
        var lastSize = last?.Size ?? 0;
        if (!SignedNote.TryParse(announcement.Note, out var note, out var problem)
            || !NoteKey.VerifyNote(note!, [peerKey], out _, out problem)
            || !Checkpoint.TryParse(note!.Text, out var checkpoint, out problem)
            || checkpoint!.Origin != peerKey.Name)
        {
            return Refuse(origin, 0, lastSize, $"the checkpoint is not signed by {peerKey.Name}: {problem}", messageId, announcement.Note, null);
        }
        if (last is not null)
        {
            // Announcements travel over the broker, so they can arrive late, twice or out of order
            // (redelivery after a broker restart, a second replica of the origin). A checkpoint that
            // is merely older than the newest one cosigned is stale, not evidence: it is an alert only
            // when it contradicts a checkpoint of the same size that this witness cosigned.
            if (checkpoint.Size <= last.Size)
            {
                var sameSize = checkpoint.Size == last.Size ? last
                    : await db.WitnessedCheckpoints.SingleOrDefaultAsync(w => w.Origin == origin && w.Size == checkpoint.Size, cancellationToken);
                if (sameSize is null)
                {
                    return Refuse(origin, checkpoint.Size, lastSize, $"stale: size {checkpoint.Size} is older than the {last.Size} already cosigned", messageId, null, null);
                }
                if (!checkpoint.RootHash.AsSpan().SequenceEqual(sameSize.RootHash))
                {
                    return Refuse(origin, checkpoint.Size, lastSize, $"a second, different root for size {checkpoint.Size}: the log forked", messageId, announcement.Note, sameSize.Note);
                }
                return Cosign(note, checkpoint);
            }
            // The proof may start from any checkpoint this witness cosigned; one that fails to verify
            // is evidence of a rewrite whichever it starts from. Only a proof from the newest one
            // earns a cosignature, since only that shows the new checkpoint extends everything seen.
            var from = (long)announcement.PreviousSize == last.Size ? last
                : await db.WitnessedCheckpoints.SingleOrDefaultAsync(w => w.Origin == origin && w.Size == (long)announcement.PreviousSize, cancellationToken);
            if (from is null)
            {
                return Refuse(origin, checkpoint.Size, lastSize, $"the consistency proof starts at {announcement.PreviousSize}, not at {last.Size}", messageId, null, null);
            }
            if (!ProofVerifier.VerifyConsistency(from.Size, checkpoint.Size, from.RootHash, checkpoint.RootHash, [.. announcement.ConsistencyProof.Select(p => p.ToByteArray())], out problem))
            {
                return Refuse(origin, checkpoint.Size, lastSize, $"not consistent with the checkpoint of size {from.Size} cosigned before ({problem}): the log was rewritten", messageId, announcement.Note, from.Note);
            }
            if (from != last)
            {
                return Refuse(origin, checkpoint.Size, lastSize, $"the consistency proof starts at {announcement.PreviousSize}, not at {last.Size}", messageId, null, null);
            }
        }
        db.WitnessedCheckpoints.Add(new WitnessedCheckpointRecord
        {
            Origin = origin,
            Size = checkpoint.Size,
            RootHash = checkpoint.RootHash,
            Note = announcement.Note,
            WitnessedAt = time.GetUtcNow(),
        });
        return Cosign(note, checkpoint);
    }

    /// <summary>As an origin: keep a witness's cosignature, after checking it.</summary>
    public async Task ReceiveCosignatureAsync(string witness, CheckpointCosignature answer, CancellationToken cancellationToken)
    {
        var state = await db.WitnessProgress.SingleOrDefaultAsync(p => p.Witness == witness, cancellationToken);
        if (state is null)
        {
            state = new WitnessProgressRecord { Witness = witness };
            db.WitnessProgress.Add(state);
        }
        state.CosignedSize = Math.Max(state.CosignedSize, (long)answer.WitnessedSize);
        state.UpdatedAt = time.GetUtcNow();
        if (!answer.Cosigned)
        {
            // The next announcement starts its proof from where this witness says it is.
            state.CosignedSize = (long)answer.WitnessedSize;
            state.AnnouncedSize = 0;
            logger.LogWarning("{Witness} did not cosign checkpoint {Size}: {Reason}", witness, answer.Size, answer.Reason);
            return;
        }
        var checkpoint = await db.AuditCheckpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Size == (long)answer.Size, cancellationToken);
        var witnessKey = NoteKey.FromPublicKey(AuditLogFormat.Origin(witness), peers.Get(witness).Signing.ExportSubjectPublicKeyInfo());
        if (checkpoint is null || !SignedNote.TryParse(checkpoint.Note + answer.SignatureLine, out var note, out _)
            || !note!.Signatures.Any(s => s.KeyName == witnessKey.Name && witnessKey.Verify(note.Text, s)))
        {
            logger.LogWarning("{Witness}'s cosignature for checkpoint {Size} does not verify; ignored", witness, answer.Size);
            return;
        }
        // Kept beside the checkpoint, not logged: a logged cosignature would grow the log, which would
        // need a new checkpoint, which would be cosigned again, without end.
        if (!await db.AuditCosignatures.AnyAsync(c => c.CheckpointSize == checkpoint.Size && c.Witness == witness, cancellationToken))
        {
            db.AuditCosignatures.Add(new AuditCosignatureRecord { CheckpointSize = checkpoint.Size, Witness = witness, SignatureLine = answer.SignatureLine, ReceivedAt = time.GetUtcNow() });
        }
    }

    // What this witness cosigned is kept in witnessed_checkpoints, not in its own log (see above);
    // refusals, which are evidence of misbehaviour, are logged.
    private CheckpointCosignature Cosign(SignedNote note, Checkpoint checkpoint)
    {
        var signature = log.NoteKey.Sign(note.Text);
        return new CheckpointCosignature { Size = (ulong)checkpoint.Size, Cosigned = true, SignatureLine = signature.ToLine(), WitnessedSize = (ulong)checkpoint.Size };
    }

    /// <summary>
    /// Refuses to cosign. With <paramref name="evidence"/> (the signed note that contradicts
    /// <paramref name="previous"/>) it is an alert: logged as an error, kept, and the node's health degrades.
    /// </summary>
    private CheckpointCosignature Refuse(string origin, long size, long witnessedSize, string reason, string messageId, string? evidence, string? previous)
    {
        if (evidence is not null)
        {
            logger.LogError("ALERT: {Origin} showed an inconsistent audit log: {Reason}", origin, reason);
            db.WitnessAlerts.Add(new WitnessAlertRecord
            {
                Origin = origin,
                Size = size,
                Reason = reason,
                AnnouncedNote = evidence,
                PreviousNote = previous,
                DetectedAt = time.GetUtcNow(),
            });
        }
        audit.Record(new AuditEvent
        {
            Kind = AuditEventKind.CheckpointCosigned,
            Actor = node.Value.InstituteId,
            Counterparty = origin,
            Outcome = DisclosureOutcome.Deny,
            MessageId = messageId,
            Detail = $"refused to cosign size {size}: {reason}",
        });
        return new CheckpointCosignature { Size = (ulong)size, Cosigned = false, WitnessedSize = (ulong)witnessedSize, Reason = reason };
    }
}

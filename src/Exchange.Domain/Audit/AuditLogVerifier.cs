using System.Security.Cryptography;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Domain.Audit;

/// <summary>The outcome of verifying a log: what was checked, and the first problem found, naming the entry.</summary>
public sealed record AuditVerification(long Entries, int CheckpointsVerified, long LatestCheckpointSize, IReadOnlyDictionary<string, long> CosignedUpTo, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks a whole exported log against the log's public key, trusting nothing else: every
/// checkpoint must be signed by the log's key; every entry must decode, sit at the index it claims
/// and link to the hash of the entry before it; and the tree recomputed from the entries must have
/// each checkpoint's root at each checkpoint's size. An edited entry breaks the next entry's link,
/// a deleted or reordered one claims the wrong index, a truncated log is shorter than its checkpoint,
/// and a rewrite that repairs the links no longer matches a signed root: each is named.
/// </summary>
public static class AuditLogVerifier
{
    public static AuditVerification Verify(string instituteId, ECDsa logKey, IEnumerable<(long Index, byte[] Bytes)> entries, IEnumerable<string> checkpointNotes,
        IEnumerable<NoteKey>? witnesses = null)
    {
        var problems = new List<string>();
        var origin = AuditLogFormat.Origin(instituteId);
        var key = new NoteKey(origin, logKey);
        var checkpoints = new SortedDictionary<long, Checkpoint>();
        var cosigned = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var known = new List<NoteKey> { key };
        known.AddRange(witnesses ?? []);
        foreach (var note in checkpointNotes)
        {
            // Every signature by a known key must verify, the log's own among them; a bad cosignature
            // rejects the note as surely as a bad log signature.
            if (!SignedNote.TryParse(note, out var signed, out var problem)
                || !NoteKey.VerifyNote(signed!, known, out var signers, out problem)
                || !Checkpoint.TryParse(signed!.Text, out var checkpoint, out problem))
            {
                problems.Add($"a checkpoint is not a note signed by {origin}: {problem}");
                continue;
            }
            if (!signers.Contains(origin))
            {
                problems.Add($"a checkpoint of size {checkpoint!.Size} is not signed by {origin}");
                continue;
            }
            if (checkpoint!.Origin != origin)
            {
                problems.Add($"a checkpoint names the log '{checkpoint.Origin}', not '{origin}'");
                continue;
            }
            if (checkpoints.TryGetValue(checkpoint.Size, out var twin) && !twin.RootHash.AsSpan().SequenceEqual(checkpoint.RootHash))
            {
                problems.Add($"two checkpoints of size {checkpoint.Size} have different roots: the log forked");
            }
            checkpoints[checkpoint.Size] = checkpoint;
            foreach (var witness in signers.Where(s => s != origin))
            {
                cosigned[witness] = Math.Max(cosigned.GetValueOrDefault(witness), checkpoint.Size);
            }
        }

        var range = new CompactRange();
        byte[] previous = [];
        var position = 0L;
        foreach (var (index, bytes) in entries)
        {
            if (problems.Count > 0)
            {
                break;
            }
            AuditEntry entry;
            try
            {
                entry = AuditEntry.Parser.ParseFrom(bytes);
            }
            catch (InvalidProtocolBufferException e)
            {
                problems.Add($"entry {position}: cannot be decoded ({e.Message}); it was altered");
                break;
            }
            if ((long)entry.Index != position || index != position)
            {
                var missing = (long)entry.Index > position ? $"entry {position} is missing (deleted)" : $"entry {position} is out of place (reordered or duplicated)";
                problems.Add($"entry {position}: the entry found here claims index {entry.Index}; {missing}");
                break;
            }
            if (!entry.PreviousLeafHash.Span.SequenceEqual(previous))
            {
                problems.Add(position == 0
                    ? "entry 0: it claims a predecessor; it was altered"
                    : $"entry {position - 1}: altered — its hash no longer matches the link recorded in entry {position}");
                break;
            }
            if (entry.FormatVersion != AuditLogFormat.FormatVersion || entry.Log != instituteId || !entry.ToByteString().Span.SequenceEqual(bytes))
            {
                problems.Add($"entry {position}: not a canonical format-{AuditLogFormat.FormatVersion} entry of log '{instituteId}'; it was altered");
                break;
            }
            previous = AuditLogFormat.LeafHash(bytes);
            range.Append(previous);
            position++;
            if (checkpoints.TryGetValue(position, out var checkpoint) && !range.Root().AsSpan().SequenceEqual(checkpoint.RootHash))
            {
                var before = checkpoints.Keys.Where(s => s < position).DefaultIfEmpty(0).Max();
                problems.Add(position - before == 1
                    ? $"entry {position - 1}: altered — the tree no longer matches the signed checkpoint of size {position}"
                    : $"entries {before}..{position - 1}: rewritten — the tree no longer matches the signed checkpoint of size {position}");
            }
        }
        var latest = checkpoints.Count == 0 ? 0 : checkpoints.Keys.Max();
        if (problems.Count == 0 && position < latest)
        {
            problems.Add($"entry {position}: missing — the log has {position} entries but a checkpoint signed {latest}; entries {position}..{latest - 1} were removed");
        }
        return new AuditVerification(position, checkpoints.Count, latest, cosigned, problems);
    }
}

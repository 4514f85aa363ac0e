using Exchange.Domain.Audit;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.Transparency;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Audit;

/// <summary>
/// The node's Merkle log over its audit events. Events are written in the transactions of the
/// changes they record; the integrator then gives them their index, links and tree nodes, in
/// batches, as the single writer of the tree (it holds the head row's lock). Checkpoints are signed
/// with the node's key; proofs come from stored perfect-subtree hashes.
/// </summary>
public sealed class AuditLog(NodeDbContext db, NodeKeyRing keys, TimeProvider time, IOptions<NodeOptions> node, IOptions<AuditOptions> options)
{
    private string Self => node.Value.InstituteId;

    public string Origin => AuditLogFormat.Origin(Self);

    public NoteKey NoteKey => new(Origin, keys.Signing);

    /// <summary>Integrates up to one batch of pending events; returns how many.</summary>
    public async Task<int> IntegrateAsync(CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var head = await LockHeadAsync(cancellationToken);
        var pending = await db.AuditEvents.Where(e => e.LeafIndex == null).OrderBy(e => e.Id).Take(options.Value.IntegrationBatchSize).ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }
        var range = CompactRange.Restore(head.Size, Split(head.Border));
        var previous = head.LastLeafHash;
        foreach (var record in pending)
        {
            var entry = AuditLogFormat.Encode(Self, range.Size, previous, AuditEvent.Parser.ParseFrom(record.Event));
            var leaf = AuditLogFormat.LeafHash(entry);
            record.LeafIndex = range.Size;
            record.Entry = entry;
            record.LeafHash = leaf;
            foreach (var (id, hash) in range.Append(leaf))
            {
                db.AuditTree.Add(new AuditTreeNodeRecord { Key = AuditTreeNodeRecord.KeyOf(id), Hash = hash });
            }
            previous = leaf;
        }
        head.Size = range.Size;
        head.Border = [.. range.Hashes.SelectMany(h => h)];
        head.LastLeafHash = previous;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return pending.Count;
    }

    public async Task<(long Size, byte[] Root)> HeadAsync(CancellationToken cancellationToken)
    {
        var head = await db.AuditHead.AsNoTracking().SingleAsync(cancellationToken);
        return (head.Size, CompactRange.Restore(head.Size, Split(head.Border)).Root());
    }

    /// <summary>Signs a checkpoint of the log as it stands, unless the latest one already covers it.</summary>
    public async Task<AuditCheckpointRecord?> SignCheckpointAsync(CancellationToken cancellationToken)
    {
        var (size, root) = await HeadAsync(cancellationToken);
        var latest = await LatestCheckpointAsync(cancellationToken);
        if (size == 0 || latest?.Size >= size)
        {
            return latest;
        }
        var text = new Checkpoint(Origin, size, root).ToText();
        var record = new AuditCheckpointRecord
        {
            Size = size,
            RootHash = root,
            Note = new SignedNote(text, [NoteKey.Sign(text)]).ToNote(),
            CreatedAt = time.GetUtcNow(),
        };
        db.AuditCheckpoints.Add(record);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another replica signed this size first: theirs stands.
            db.ChangeTracker.Clear();
            return await db.AuditCheckpoints.AsNoTracking().SingleAsync(c => c.Size == size, cancellationToken);
        }
        return record;
    }

    public Task<AuditCheckpointRecord?> LatestCheckpointAsync(CancellationToken cancellationToken) =>
        db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.Size).FirstOrDefaultAsync(cancellationToken);

    /// <summary>The checkpoint note with every cosignature received for it.</summary>
    public async Task<(string Note, IReadOnlyList<string> Witnesses)> CosignedNoteAsync(AuditCheckpointRecord checkpoint, CancellationToken cancellationToken)
    {
        var cosignatures = await db.AuditCosignatures.AsNoTracking().Where(c => c.CheckpointSize == checkpoint.Size).OrderBy(c => c.Witness).ToListAsync(cancellationToken);
        return (checkpoint.Note + string.Concat(cosignatures.Select(c => c.SignatureLine)), cosignatures.Select(c => c.Witness).ToList());
    }

    public async Task<(byte[] LeafHash, IReadOnlyList<byte[]> Proof, byte[] Root)> InclusionProofAsync(long index, long size, CancellationToken cancellationToken)
    {
        var path = ProofPaths.Inclusion(index, size);
        var nodes = await NodesAsync([.. path, new TreeRange(0, size), new TreeRange(index, index + 1)], cancellationToken);
        return (nodes(new TreeRange(index, index + 1)), path.Select(nodes).ToList(), nodes(new TreeRange(0, size)));
    }

    public async Task<(IReadOnlyList<byte[]> Proof, byte[] FirstRoot, byte[] SecondRoot)> ConsistencyProofAsync(long first, long second, CancellationToken cancellationToken)
    {
        var path = ProofPaths.Consistency(first, second);
        var nodes = await NodesAsync([.. path, new TreeRange(0, first), new TreeRange(0, second)], cancellationToken);
        return (path.Select(nodes).ToList(), nodes(new TreeRange(0, first)), nodes(new TreeRange(0, second)));
    }

    // Every perfect subtree the ranges need, in one query; then each range's hash folds from them.
    private async Task<Func<TreeRange, byte[]>> NodesAsync(IReadOnlyList<TreeRange> ranges, CancellationToken cancellationToken)
    {
        var keys = ProofPaths.Needed(ranges).Select(AuditTreeNodeRecord.KeyOf).ToList();
        var found = await db.AuditTree.AsNoTracking().Where(n => keys.Contains(n.Key)).ToDictionaryAsync(n => n.Key, n => n.Hash, cancellationToken);
        return range => ProofPaths.Hash(range, id => found.TryGetValue(AuditTreeNodeRecord.KeyOf(id), out var hash)
            ? hash
            : throw new InvalidOperationException($"audit tree node {id} is missing from the database"));
    }

    private async Task<AuditHeadRecord> LockHeadAsync(CancellationToken cancellationToken) =>
        db.Database.IsNpgsql()
            // Row lock: one integrator at a time across every replica sharing this database.
            ? await db.AuditHead.FromSqlRaw("SELECT * FROM audit_head WHERE \"Id\" = 1 FOR UPDATE").SingleAsync(cancellationToken)
            // SQLite serialises writers: the transaction holds the database's write lock from its first write.
            : await db.AuditHead.SingleAsync(cancellationToken);

    private static List<byte[]> Split(byte[] border) => border.Chunk(MerkleHash.Size).ToList();
}

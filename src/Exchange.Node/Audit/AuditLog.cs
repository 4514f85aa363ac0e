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
        var pending = await db.AuditEvents.AsNoTracking()
            .Where(e => e.LeafIndex == null)
            .OrderBy(e => e.Id)
            .Take(options.Value.IntegrationBatchSize)
            .Select(e => new { e.Id, e.Event })
            .ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return 0;
        }
        var range = CompactRange.Restore(head.Size, Split(head.Border));
        var previous = head.LastLeafHash;
        var leaves = new List<(long Id, long Index, byte[] Entry, byte[] LeafHash)>(pending.Count);
        var nodes = new List<(long Key, byte[] Hash)>(pending.Count);
        foreach (var record in pending)
        {
            var index = range.Size;
            var entry = AuditLogFormat.Encode(Self, index, previous, AuditEvent.Parser.ParseFrom(record.Event));
            var leaf = AuditLogFormat.LeafHash(entry);
            leaves.Add((record.Id, index, entry, leaf));
            // Leaves are kept in audit_events; the tree table holds the interior nodes.
            nodes.AddRange(range.Append(leaf).Where(n => n.Node.Level > 0).Select(n => (AuditTreeNodeRecord.KeyOf(n.Node), n.Hash)));
            previous = leaf;
        }
        await WriteAsync(leaves, nodes, cancellationToken);
        head.Size = range.Size;
        head.Border = [.. range.Hashes.SelectMany(h => h)];
        head.LastLeafHash = previous;
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return pending.Count;
    }

    // Multi-row statements rather than one tracked entity per row: the integrator writes thousands of
    // rows a batch, and SQL that both SQLite and PostgreSQL accept keeps it one code path.
    private async Task WriteAsync(List<(long Id, long Index, byte[] Entry, byte[] LeafHash)> leaves, List<(long Key, byte[] Hash)> nodes, CancellationToken cancellationToken)
    {
        const int Chunk = 250;
        foreach (var chunk in leaves.Chunk(Chunk))
        {
            var values = string.Join(", ", chunk.Select((_, i) => $"({{{4 * i}}}, {{{4 * i + 1}}}, {{{4 * i + 2}}}, {{{4 * i + 3}}})"));
            var parameters = chunk.SelectMany(l => new object[] { l.Id, l.Index, l.Entry, l.LeafHash }).ToArray();
            // Only placeholders ({0}, {1}, ...) are spliced in; every value travels as a parameter.
            var sql = "UPDATE audit_events SET \"LeafIndex\" = v.column2, \"Entry\" = v.column3, \"LeafHash\" = v.column4 " +
                      "FROM (VALUES " + values + ") AS v WHERE audit_events.\"Id\" = v.column1";
            await db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken);
        }
        foreach (var chunk in nodes.Chunk(Chunk))
        {
            var values = string.Join(", ", chunk.Select((_, i) => $"({{{2 * i}}}, {{{2 * i + 1}}})"));
            var sql = "INSERT INTO audit_tree (\"Key\", \"Hash\") VALUES " + values;
            await db.Database.ExecuteSqlRawAsync(sql, chunk.SelectMany(n => new object[] { n.Key, n.Hash }).ToArray(), cancellationToken);
        }
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
        var needed = ProofPaths.Needed(ranges);
        var keys = needed.Where(n => n.Level > 0).Select(AuditTreeNodeRecord.KeyOf).ToList();
        var leaves = needed.Where(n => n.Level == 0).Select(n => (long?)n.Index).ToList();
        var found = await db.AuditTree.AsNoTracking().Where(n => keys.Contains(n.Key)).ToDictionaryAsync(n => n.Key, n => n.Hash, cancellationToken);
        foreach (var leaf in await db.AuditEvents.AsNoTracking().Where(e => leaves.Contains(e.LeafIndex)).Select(e => new { e.LeafIndex, e.LeafHash }).ToListAsync(cancellationToken))
        {
            found[AuditTreeNodeRecord.KeyOf(new NodeId(0, leaf.LeafIndex!.Value))] = leaf.LeafHash!;
        }
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

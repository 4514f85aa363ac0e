namespace Exchange.Transparency;

/// <summary>
/// The right border of a growing tree: the perfect subtrees that make up [0, size), largest first.
/// Appending a leaf merges equal-sized subtrees (as in binary addition) without reading the tree,
/// and reports the new perfect subtrees so a store can keep them for proofs.
/// </summary>
public sealed class CompactRange
{
    private readonly List<byte[]> _hashes;

    public CompactRange() : this(0, [])
    {
    }

    private CompactRange(long size, List<byte[]> hashes)
    {
        Size = size;
        _hashes = hashes;
    }

    public long Size { get; private set; }

    /// <summary>The stored form: the hashes of the border's subtrees, largest first (their count is the popcount of Size).</summary>
    public IReadOnlyList<byte[]> Hashes => _hashes;

    public static CompactRange Restore(long size, IReadOnlyList<byte[]> hashes)
    {
        if (long.PopCount(size) != hashes.Count || hashes.Any(h => h.Length != MerkleHash.Size))
        {
            throw new ArgumentException($"a tree of size {size} has {long.PopCount(size)} border hashes, not {hashes.Count}");
        }
        return new CompactRange(size, [.. hashes]);
    }

    /// <summary>Appends a leaf hash; returns every perfect subtree completed by it, the leaf itself first.</summary>
    public IReadOnlyList<(NodeId Node, byte[] Hash)> Append(byte[] leafHash)
    {
        var created = new List<(NodeId, byte[])> { (new NodeId(0, Size), leafHash) };
        var hash = leafHash;
        var index = Size;
        var level = 0;
        // Each trailing 1 bit of the old size is a border subtree of that level to merge with.
        while (((Size >> level) & 1) == 1)
        {
            hash = MerkleHash.Node(_hashes[^1], hash);
            _hashes.RemoveAt(_hashes.Count - 1);
            level++;
            index >>= 1;
            created.Add((new NodeId(level, index), hash));
        }
        _hashes.Add(hash);
        Size++;
        return created;
    }

    /// <summary>The RFC 6962 root of the tree so far.</summary>
    public byte[] Root()
    {
        if (_hashes.Count == 0)
        {
            return MerkleHash.Empty;
        }
        var root = _hashes[^1];
        for (var i = _hashes.Count - 2; i >= 0; i--)
        {
            root = MerkleHash.Node(_hashes[i], root);
        }
        return root;
    }
}

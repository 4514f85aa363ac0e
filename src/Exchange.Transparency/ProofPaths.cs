namespace Exchange.Transparency;

/// <summary>
/// Which subtree hashes make up an inclusion or consistency proof (RFC 9162 §2.1.3.1 and §2.1.4.1),
/// as ranges of leaves: a store resolves each range to its hash from perfect-subtree hashes.
/// </summary>
public static class ProofPaths
{
    /// <summary>PATH(index, D[0:size]): the sibling ranges from the leaf up.</summary>
    public static IReadOnlyList<TreeRange> Inclusion(long index, long size)
    {
        if (index < 0 || index >= size)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"leaf {index} is not in a tree of {size}");
        }
        var path = new List<TreeRange>();
        Path(index, 0, size, path);
        return path;
    }

    /// <summary>PROOF(size1, D[0:size2]).</summary>
    public static IReadOnlyList<TreeRange> Consistency(long size1, long size2)
    {
        if (size1 <= 0 || size1 > size2)
        {
            throw new ArgumentOutOfRangeException(nameof(size1), $"no consistency proof from {size1} to {size2}");
        }
        var proof = new List<TreeRange>();
        if (size1 < size2)
        {
            SubProof(size1, 0, size2, original: true, proof);
        }
        return proof;
    }

    private static void Path(long m, long begin, long end, List<TreeRange> path)
    {
        var n = end - begin;
        if (n <= 1)
        {
            return;
        }
        var k = MerkleHash.Split(n);
        if (m < k)
        {
            Path(m, begin, begin + k, path);
            path.Add(new TreeRange(begin + k, end));
        }
        else
        {
            Path(m - k, begin + k, end, path);
            path.Add(new TreeRange(begin, begin + k));
        }
    }

    private static void SubProof(long m, long begin, long end, bool original, List<TreeRange> proof)
    {
        var n = end - begin;
        if (m == n)
        {
            if (!original)
            {
                proof.Add(new TreeRange(begin, end));
            }
            return;
        }
        var k = MerkleHash.Split(n);
        if (m <= k)
        {
            SubProof(m, begin, begin + k, original, proof);
            proof.Add(new TreeRange(begin + k, end));
        }
        else
        {
            SubProof(m - k, begin + k, end, original: false, proof);
            proof.Add(new TreeRange(begin, begin + k));
        }
    }

    /// <summary>The hash of a range from its perfect subtrees: they nest to the right, H(a, H(b, c)).</summary>
    public static byte[] Hash(TreeRange range, Func<NodeId, byte[]> perfect)
    {
        var pieces = range.PerfectSubtrees().Select(perfect).ToList();
        var hash = pieces[^1];
        for (var i = pieces.Count - 2; i >= 0; i--)
        {
            hash = MerkleHash.Node(pieces[i], hash);
        }
        return hash;
    }

    /// <summary>Every perfect subtree the given ranges need: fetch them in one round trip, then call <see cref="Hash"/>.</summary>
    public static IReadOnlySet<NodeId> Needed(IEnumerable<TreeRange> ranges) => ranges.SelectMany(r => r.PerfectSubtrees()).ToHashSet();
}

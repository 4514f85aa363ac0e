namespace Exchange.Transparency;

/// <summary>
/// Proof verification exactly as RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) state
/// it, failing closed: a wrong index or size, a missing or extra hash, a hash of the wrong length,
/// or a root that does not match, each gives a reason and never a pass.
/// </summary>
public static class ProofVerifier
{
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]>? proof, ReadOnlySpan<byte> root, out string problem)
    {
        proof ??= [];
        if (index < 0 || size <= 0 || index >= size)
        {
            problem = $"leaf index {index} is not inside a tree of size {size}";
            return false;
        }
        if (leafHash.Length != MerkleHash.Size || root.Length != MerkleHash.Size || proof.Any(p => p is null || p.Length != MerkleHash.Size))
        {
            problem = "a hash has the wrong length";
            return false;
        }
        var fn = index;
        var sn = size - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                problem = "the proof has more hashes than the tree has levels";
                return false;
            }
            if ((fn & 1) == 1 || fn == sn)
            {
                r = MerkleHash.Node(p, r);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                r = MerkleHash.Node(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0)
        {
            problem = "the proof has fewer hashes than the tree has levels";
            return false;
        }
        if (!r.AsSpan().SequenceEqual(root))
        {
            problem = "the proof does not lead to the root";
            return false;
        }
        problem = "";
        return true;
    }

    public static bool VerifyConsistency(long size1, long size2, ReadOnlySpan<byte> root1, ReadOnlySpan<byte> root2, IReadOnlyList<byte[]>? proof, out string problem)
    {
        proof ??= [];
        if (size1 <= 0)
        {
            problem = "a consistency proof from an empty tree proves nothing";
            return false;
        }
        if (size2 < size1)
        {
            problem = $"the second tree ({size2}) is smaller than the first ({size1})";
            return false;
        }
        if (size1 == size2)
        {
            if (proof.Count > 0)
            {
                problem = "trees of equal size need an empty proof";
                return false;
            }
            if (!root1.SequenceEqual(root2))
            {
                problem = "trees of equal size have different roots";
                return false;
            }
            problem = "";
            return true;
        }
        if (proof.Count == 0)
        {
            problem = "the proof is empty";
            return false;
        }
        if (root1.Length != MerkleHash.Size || root2.Length != MerkleHash.Size || proof.Any(p => p is null || p.Length != MerkleHash.Size))
        {
            problem = "a hash has the wrong length";
            return false;
        }
        var path = new List<byte[]>(proof);
        if ((size1 & (size1 - 1)) == 0)
        {
            path.Insert(0, root1.ToArray());
        }
        var fn = size1 - 1;
        var sn = size2 - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }
        var fr = path[0];
        var sr = path[0];
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
            {
                problem = "the proof has more hashes than the trees need";
                return false;
            }
            if ((fn & 1) == 1 || fn == sn)
            {
                fr = MerkleHash.Node(c, fr);
                sr = MerkleHash.Node(c, sr);
                if ((fn & 1) == 0)
                {
                    while ((fn & 1) == 0 && fn != 0)
                    {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            }
            else
            {
                sr = MerkleHash.Node(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0)
        {
            problem = "the proof has fewer hashes than the trees need";
            return false;
        }
        if (!fr.AsSpan().SequenceEqual(root1) || !sr.AsSpan().SequenceEqual(root2))
        {
            problem = "the proof does not lead to both roots";
            return false;
        }
        problem = "";
        return true;
    }
}

using CsCheck;
using Exchange.Transparency;

namespace Exchange.Transparency.Tests;

/// <summary>The log against a naive recursive RFC 6962 implementation, for every size up to a few hundred.</summary>
public sealed class MerkleTreeTests
{
    // The naive reference: MTH, PATH and PROOF straight from RFC 9162, recursing over the leaves.
    private static byte[] Mth(byte[][] leaves, int begin, int end) => (end - begin) switch
    {
        0 => MerkleHash.Empty,
        1 => leaves[begin],
        var n => MerkleHash.Node(Mth(leaves, begin, begin + (int)MerkleHash.Split(n)), Mth(leaves, begin + (int)MerkleHash.Split(n), end)),
    };

    private static List<byte[]> NaivePath(long m, byte[][] leaves, int begin, int end)
    {
        var n = end - begin;
        if (n <= 1)
        {
            return [];
        }
        var k = (int)MerkleHash.Split(n);
        return m < k
            ? [.. NaivePath(m, leaves, begin, begin + k), Mth(leaves, begin + k, end)]
            : [.. NaivePath(m - k, leaves, begin + k, end), Mth(leaves, begin, begin + k)];
    }

    private static List<byte[]> NaiveSubProof(long m, byte[][] leaves, int begin, int end, bool original)
    {
        var n = end - begin;
        if (m == n)
        {
            return original ? [] : [Mth(leaves, begin, end)];
        }
        var k = (int)MerkleHash.Split(n);
        return m <= k
            ? [.. NaiveSubProof(m, leaves, begin, begin + k, original), Mth(leaves, begin + k, end)]
            : [.. NaiveSubProof(m - k, leaves, begin + k, end, false), Mth(leaves, begin, begin + k)];
    }

    private sealed class Log
    {
        public readonly CompactRange Range = new();
        public readonly Dictionary<NodeId, byte[]> Nodes = [];
        public readonly List<byte[]> Leaves = [];

        public void Append(byte[] entry)
        {
            var leaf = MerkleHash.Leaf(entry);
            Leaves.Add(leaf);
            foreach (var (node, hash) in Range.Append(leaf))
            {
                Nodes[node] = hash;
            }
        }

        public List<byte[]> Inclusion(long index, long size) => ProofPaths.Inclusion(index, size).Select(r => ProofPaths.Hash(r, n => Nodes[n])).ToList();

        public List<byte[]> Consistency(long size1, long size2) => ProofPaths.Consistency(size1, size2).Select(r => ProofPaths.Hash(r, n => Nodes[n])).ToList();

        public byte[] RootAt(long size) => ProofPaths.Hash(new TreeRange(0, size), n => Nodes[n]);
    }

    private static Log Build(int size, int seed)
    {
        var random = new Random(seed);
        var log = new Log();
        for (var i = 0; i < size; i++)
        {
            var entry = new byte[random.Next(0, 40)];
            random.NextBytes(entry);
            log.Append(entry);
        }
        return log;
    }

    [Fact]
    public void Appending_gives_the_same_root_as_the_naive_tree_hash_at_every_size()
    {
        var log = new Log();
        Assert.Equal(MerkleHash.Empty, log.Range.Root());
        var random = new Random(1);
        for (var size = 1; size <= 400; size++)
        {
            var entry = new byte[random.Next(0, 20)];
            random.NextBytes(entry);
            log.Append(entry);
            var expected = Mth([.. log.Leaves], 0, size);
            Assert.Equal(expected, log.Range.Root());
            Assert.Equal(expected, log.RootAt(size));
        }
    }

    [Fact]
    public void Every_inclusion_proof_matches_the_naive_one_and_verifies()
    {
        var log = Build(300, 2);
        for (var size = 1; size <= 300; size += size < 40 ? 1 : 7)
        {
            var root = log.RootAt(size);
            for (var index = 0; index < size; index += size < 40 ? 1 : 3)
            {
                var proof = log.Inclusion(index, size);
                Assert.Equal(NaivePath(index, [.. log.Leaves], 0, size), proof);
                Assert.True(ProofVerifier.VerifyInclusion(index, size, log.Leaves[index], proof, root, out var problem), problem);
            }
        }
    }

    [Fact]
    public void Every_consistency_proof_matches_the_naive_one_and_verifies()
    {
        var log = Build(260, 3);
        for (var size2 = 1; size2 <= 260; size2 += size2 < 64 ? 1 : 9)
        {
            for (var size1 = 1; size1 <= size2; size1 += size2 < 64 ? 1 : 5)
            {
                var proof = log.Consistency(size1, size2);
                Assert.Equal(NaiveSubProof(size1, [.. log.Leaves], 0, size2, true), proof);
                Assert.True(ProofVerifier.VerifyConsistency(size1, size2, log.RootAt(size1), log.RootAt(size2), proof, out var problem), $"{size1}->{size2}: {problem}");
            }
        }
    }

    [Fact]
    public void A_proof_with_any_bit_changed_or_any_hash_added_or_removed_fails()
    {
        var log = Build(200, 4);
        Gen.Select(Gen.Int[2, 200], Gen.Int[0, 199], Gen.Int[0, 255]).Sample((size, index, bit) =>
        {
            index %= size;
            var proof = log.Inclusion(index, size);
            var root = log.RootAt(size);
            if (proof.Count > 0)
            {
                var flipped = proof.Select(p => (byte[])p.Clone()).ToList();
                flipped[bit % flipped.Count][bit % 32] ^= (byte)(1 << (bit % 8));
                Assert.False(ProofVerifier.VerifyInclusion(index, size, log.Leaves[index], flipped, root, out _));
                Assert.False(ProofVerifier.VerifyInclusion(index, size, log.Leaves[index], proof.Skip(1).ToList(), root, out _));
            }
            Assert.False(ProofVerifier.VerifyInclusion(index, size, log.Leaves[index], [.. proof, MerkleHash.Empty], root, out _));
            Assert.False(ProofVerifier.VerifyInclusion((index + 1) % size == index ? index + 1 : (index + 1) % size, size, log.Leaves[index], proof, root, out _));
        }, iter: 500);
    }

    [Fact]
    public void A_consistency_proof_does_not_prove_a_rewritten_history()
    {
        var honest = Build(100, 5);
        var rewritten = Build(100, 6);
        for (var size1 = 1; size1 < 100; size1 += 3)
        {
            var proof = honest.Consistency(size1, 100);
            Assert.False(ProofVerifier.VerifyConsistency(size1, 100, rewritten.RootAt(size1), honest.RootAt(100), proof, out _));
            Assert.False(ProofVerifier.VerifyConsistency(size1, 100, honest.RootAt(size1), rewritten.RootAt(100), proof, out _));
        }
    }

    [Fact]
    public void A_compact_range_restores_from_its_stored_form()
    {
        var log = Build(77, 7);
        var restored = CompactRange.Restore(log.Range.Size, log.Range.Hashes);
        var next = MerkleHash.Leaf([9, 9]);
        log.Range.Append(next);
        restored.Append(next);
        Assert.Equal(log.Range.Root(), restored.Root());
        Assert.Throws<ArgumentException>(() => CompactRange.Restore(5, [MerkleHash.Empty]));
    }
}

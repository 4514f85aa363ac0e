namespace Exchange.Transparency;

/// <summary>
/// The leaves [Begin, End) of a tree. Every range that RFC 6962's recursion visits is a run of
/// perfect subtrees, largest first, so its hash folds from stored perfect-subtree hashes.
/// </summary>
public readonly record struct TreeRange(long Begin, long End)
{
    public long Size => End - Begin;

    /// <summary>The perfect subtrees (level, index at that level) that make up this range, left to right.</summary>
    public IEnumerable<NodeId> PerfectSubtrees()
    {
        var begin = Begin;
        while (begin < End)
        {
            var level = 63 - (int)long.LeadingZeroCount(End - begin);
            // Keep each piece aligned: its start must be a multiple of its size.
            while (level > 0 && begin % (1L << level) != 0)
            {
                level--;
            }
            yield return new NodeId(level, begin >> level);
            begin += 1L << level;
        }
    }
}

/// <summary>A perfect subtree: 2^Level leaves starting at leaf Index·2^Level.</summary>
public readonly record struct NodeId(int Level, long Index);

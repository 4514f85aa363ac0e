using System.Globalization;
using System.Text;

namespace Exchange.Transparency;

/// <summary>
/// A C2SP tlog-checkpoint body: origin line, tree size, base64 root hash, then optional extension
/// lines; each line ends in a newline.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, byte[] RootHash, IReadOnlyList<string> Extensions)
{
    public Checkpoint(string origin, long size, byte[] rootHash) : this(origin, size, rootHash, [])
    {
    }

    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(Origin).Append('\n');
        text.Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n');
        text.Append(Convert.ToBase64String(RootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            text.Append(extension).Append('\n');
        }
        return text.ToString();
    }

    public static bool TryParse(string text, out Checkpoint? checkpoint, out string problem)
    {
        checkpoint = null;
        if (!text.EndsWith('\n'))
        {
            problem = "the checkpoint text does not end in a newline";
            return false;
        }
        var lines = text[..^1].Split('\n');
        if (lines.Length < 3 || lines.Any(l => l.Length == 0))
        {
            problem = "a checkpoint needs at least three non-empty lines";
            return false;
        }
        if (!long.TryParse(lines[1], NumberStyles.None, CultureInfo.InvariantCulture, out var size) || (lines[1].Length > 1 && lines[1][0] == '0'))
        {
            problem = $"'{lines[1]}' is not a tree size";
            return false;
        }
        byte[] root;
        try
        {
            root = Convert.FromBase64String(lines[2]);
        }
        catch (FormatException)
        {
            problem = "the root hash is not base64";
            return false;
        }
        if (root.Length != MerkleHash.Size)
        {
            problem = $"the root hash has {root.Length} bytes, not {MerkleHash.Size}";
            return false;
        }
        checkpoint = new Checkpoint(lines[0], size, root, lines[3..]);
        problem = "";
        return true;
    }
}

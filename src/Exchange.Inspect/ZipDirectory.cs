using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Exchange.Inspect;

/// <summary>
/// The central directory of a zip archive (APPNOTE.TXT sections 4.3.12 and 4.3.16), read in one pass
/// and held as 32 bytes per entry whatever the directory says: entry names, extra fields and comments
/// stay in the file. A name is read again only when it is looked for or shown in a message, so a
/// directory of 65,535 entries holds 2 MiB, and one of the same size made of long names or long
/// extra fields holds a few kilobytes.
/// </summary>
internal sealed class ZipDirectory
{
    private const uint CentralDirectoryEntry = 0x02014b50;
    private const int HeaderBytes = 46;
    // What a name is cut to when it is shown in a message.
    private const int ShownNameBytes = 200;

    private readonly Stream _file;
    private readonly long _offset;
    private readonly Entry[] _entries;
    private readonly ulong _seed;

    /// <summary>One entry: where its name and data are, how it is compressed, what it declares. 32 bytes.</summary>
    /// <param name="NameOffset">Bytes from the start of the directory to the name.</param>
    /// <param name="NameHash">XXH64 of the name with this directory's random seed, for finding duplicates and names.</param>
    internal readonly record struct Entry(uint NameOffset, ushort NameLength, ushort Method, uint Crc32, uint CompressedSize, uint Size, uint LocalHeaderOffset, ulong NameHash);

    private ZipDirectory(Stream file, long offset, Entry[] entries, ulong seed)
    {
        _file = file;
        _offset = offset;
        _entries = entries;
        _seed = seed;
    }

    public int Count => _entries.Length;

    public Entry this[int index] => _entries[index];

    /// <summary>
    /// Reads <paramref name="count"/> entries of the directory at <paramref name="offset"/> in
    /// <paramref name="file"/> (whose bounds the caller has checked against the file), refusing two
    /// entries of one name.
    /// </summary>
    /// <exception cref="InspectFormatException">The directory is damaged, or names an entry twice.</exception>
    public static ZipDirectory Read(Stream file, long offset, long size, int count)
    {
        // Random per archive: a hash an archive's author cannot aim at, so that equal hashes (compared
        // name against name from the file) stay as rare for a hostile archive as for any other.
        var seed = (ulong)Random.Shared.NextInt64();
        var entries = new Entry[count];
        var hash = new XxHash64((long)seed);
        var name = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            Span<byte> header = stackalloc byte[HeaderBytes];
            long at = 0;
            for (var i = 0; i < count; i++)
            {
                file.Position = offset + at;
                if (at + HeaderBytes > size || file.ReadAtLeast(header, HeaderBytes, throwOnEndOfStream: false) != HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralDirectoryEntry)
                {
                    throw Damaged(i);
                }
                var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
                var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
                var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
                if (at + HeaderBytes + nameLength > size)
                {
                    throw Damaged(i);
                }
                hash.Reset();
                for (var left = (int)nameLength; left > 0;)
                {
                    var read = file.Read(name, 0, Math.Min(left, name.Length));
                    if (read == 0)
                    {
                        throw Damaged(i);
                    }
                    hash.Append(name.AsSpan(0, read));
                    left -= read;
                }
                entries[i] = new Entry(
                    (uint)(at + HeaderBytes), nameLength,
                    Method: BinaryPrimitives.ReadUInt16LittleEndian(header[10..]),
                    Crc32: BinaryPrimitives.ReadUInt32LittleEndian(header[16..]),
                    CompressedSize: BinaryPrimitives.ReadUInt32LittleEndian(header[20..]),
                    Size: BinaryPrimitives.ReadUInt32LittleEndian(header[24..]),
                    LocalHeaderOffset: BinaryPrimitives.ReadUInt32LittleEndian(header[42..]),
                    NameHash: hash.GetCurrentHashAsUInt64());
                at += HeaderBytes + nameLength + extraLength + commentLength;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(name);
        }
        var directory = new ZipDirectory(file, offset, entries, seed);
        directory.RefuseDuplicates();
        return directory;
    }

    /// <summary>The index of the entry named <paramref name="name"/>, or -1.</summary>
    public int Find(string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var hash = XxHash64.HashToUInt64(bytes, (long)_seed);
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].NameHash == hash && NameIs(i, bytes))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The entries whose names start with <paramref name="prefix"/>, in directory order.</summary>
    public IEnumerable<int> StartingWith(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(prefix);
        var start = new byte[bytes.Length];
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].NameLength >= bytes.Length && ReadName(i, start) && start.AsSpan().SequenceEqual(bytes))
            {
                yield return i;
            }
        }
    }

    /// <summary>The entry's name for a message: read from the file, cut to 200 bytes (at a character) with "…".</summary>
    public string NameOf(int index)
    {
        var length = Math.Min((int)_entries[index].NameLength, ShownNameBytes);
        var bytes = new byte[length];
        if (!ReadName(index, bytes))
        {
            return "?";
        }
        if (length == _entries[index].NameLength)
        {
            return Encoding.UTF8.GetString(bytes);
        }
        // Back off to the start of the character the cut fell in.
        while (length > 0 && (bytes[length - 1] & 0xC0) == 0x80)
        {
            length--;
        }
        if (length > 0 && bytes[length - 1] >= 0xC0)
        {
            length--;
        }
        return Encoding.UTF8.GetString(bytes, 0, length) + "…";
    }

    // Sorting the hashes finds equal ones; only those are compared name against name, from the file.
    private void RefuseDuplicates()
    {
        var hashes = new ulong[_entries.Length];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = _entries[i].NameHash;
        }
        Array.Sort(hashes);
        for (var i = 1; i < hashes.Length; i++)
        {
            if (hashes[i] != hashes[i - 1] || (i > 1 && hashes[i] == hashes[i - 2]))
            {
                continue;
            }
            var same = Enumerable.Range(0, _entries.Length).Where(e => _entries[e].NameHash == hashes[i]).ToList();
            for (var a = 0; a < same.Count; a++)
            {
                for (var b = a + 1; b < same.Count; b++)
                {
                    if (SameName(same[a], same[b]))
                    {
                        throw new InspectFormatException($"the .eval archive holds two entries named '{NameOf(same[a])}'");
                    }
                }
            }
        }
    }

    private bool SameName(int a, int b)
    {
        if (_entries[a].NameLength != _entries[b].NameLength)
        {
            return false;
        }
        var first = new byte[_entries[a].NameLength];
        return ReadName(a, first) && NameIs(b, first);
    }

    private bool NameIs(int index, byte[] name)
    {
        if (_entries[index].NameLength != name.Length)
        {
            return false;
        }
        var bytes = new byte[name.Length];
        return ReadName(index, bytes) && bytes.AsSpan().SequenceEqual(name);
    }

    // The first into.Length bytes of the entry's name.
    private bool ReadName(int index, byte[] into)
    {
        _file.Position = _offset + _entries[index].NameOffset;
        var read = 0;
        while (read < into.Length)
        {
            var n = _file.Read(into, read, into.Length - read);
            if (n == 0)
            {
                return false;
            }
            read += n;
        }
        return true;
    }

    private static InspectFormatException Damaged(int entry) => new($"the .eval archive's zip directory is damaged at entry {entry}");
}

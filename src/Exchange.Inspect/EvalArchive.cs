using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Compression;
using Exchange.Domain.Findings;

namespace Exchange.Inspect;

/// <summary>
/// The entries of an .eval file, a zip archive. Read by hand rather than with ZipArchive because
/// Inspect (0.3.206 and later) may compress entries with zstd (method 93), which ZipArchive refuses.
/// Entries are streamed, never loaded whole; the directory is held as 32 bytes per entry, its names
/// left in the file (<see cref="ZipDirectory"/>).
/// </summary>
internal sealed class EvalArchive : IDisposable
{
    private const uint EndOfCentralDirectory = 0x06054b50;
    private const uint LocalFileHeader = 0x04034b50;
    private readonly Stream _file;
    private readonly ZipDirectory _entries;
    private readonly InspectLimits _limits;
    private readonly Func<int, string> _nameOf;

    private EvalArchive(Stream file, ZipDirectory entries, InspectLimits limits)
    {
        _file = file;
        _entries = entries;
        _limits = limits;
        _nameOf = entries.NameOf;
    }

    /// <summary>The entry named <paramref name="name"/>, or -1.</summary>
    public int Find(string name) => _entries.Find(name);

    /// <summary>The entries whose names start with <paramref name="prefix"/>.</summary>
    public IEnumerable<int> StartingWith(string prefix) => _entries.StartingWith(prefix);

    /// <summary>An entry's name as messages show it (cut to 200 bytes).</summary>
    public string NameOf(int entry) => _entries.NameOf(entry);

    public static bool LooksLikeZip(Stream stream)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = stream.Read(magic);
        stream.Position = 0;
        return read == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == LocalFileHeader;
    }

    /// <summary>
    /// Reads the archive's zip directory (APPNOTE.TXT sections 4.3.12 and 4.3.16), holding 32 bytes per
    /// entry and none of its names (<see cref="ZipDirectory"/>).
    /// </summary>
    /// <exception cref="InspectFormatException">Not a complete zip, damaged, ZIP64, entries named twice, or beyond <paramref name="limits"/>.</exception>
    public static EvalArchive Open(Stream file, InspectLimits limits)
    {
        // The end-of-central-directory record is in the last 64 KiB + 22 bytes (after any comment).
        var tail = (int)Math.Min(file.Length, 65_557);
        var buffer = ArrayPool<byte>.Shared.Rent(tail);
        int count;
        uint directorySize;
        uint directoryOffset;
        try
        {
            file.Position = file.Length - tail;
            file.ReadExactly(buffer, 0, tail);
            var eocd = -1;
            for (var i = tail - 22; i >= 0; i--)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i)) == EndOfCentralDirectory)
                {
                    eocd = i;
                    break;
                }
            }
            if (eocd < 0)
            {
                throw new InspectFormatException("not a complete .eval archive: its zip directory is missing (the file is truncated?)");
            }
            count = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(eocd + 10));
            directorySize = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(eocd + 12));
            directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(eocd + 16));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        if (directoryOffset == uint.MaxValue || count == ushort.MaxValue)
        {
            throw new InspectFormatException("ZIP64 .eval archives (over 4 GiB or 65,535 entries) are not supported");
        }
        if ((long)directoryOffset + directorySize > file.Length)
        {
            throw new InspectFormatException("not a complete .eval archive: its zip directory points past the end of the file");
        }
        // Not for memory (the directory is not held), but for work: names are read and hashed once each.
        if (directorySize > limits.MaxZipDirectoryBytes)
        {
            throw new InspectFormatException($"the .eval archive's zip directory is {Sizes.Describe(directorySize)}; the importer reads at most {Sizes.Describe(limits.MaxZipDirectoryBytes)}");
        }
        var entries = ZipDirectory.Read(file, directoryOffset, directorySize, count);
        long declared = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            declared += entries[i].Size;
        }
        if (declared > limits.MaxInflatedBytes)
        {
            throw new InspectFormatException($"the .eval archive's entries decompress to {Sizes.Describe(declared)}; the importer inflates at most {Sizes.Describe(limits.MaxInflatedBytes)}");
        }
        return new EvalArchive(file, entries, limits);
    }

    /// <summary>
    /// The entry's content, decompressed as it is read; reading past the size the directory declares
    /// fails at once (a zip bomb stops within 64 KiB of its claim), as does a zstd frame that asks for
    /// a window over <see cref="InspectLimits.MaxZstdWindowLog"/>.
    /// </summary>
    public Stream OpenEntry(int index)
    {
        var data = new BoundedStream(_file);
        data.Reset(DataStart(index), _entries[index].CompressedSize);
        return new DeclaredSizeStream(Decompressing(index, data, leaveOpen: false), _entries[index].Size, _nameOf, index);
    }

    // Where the entry's data starts, from its local header (APPNOTE.TXT 4.3.7), checked against the file.
    private long DataStart(int index)
    {
        var entry = _entries[index];
        Span<byte> header = stackalloc byte[30];
        // Checked first: some streams refuse a position past their end (found by fuzzing).
        if (entry.LocalHeaderOffset + (long)header.Length > _file.Length)
        {
            throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' is damaged: it starts past the end of the file");
        }
        _file.Position = entry.LocalHeaderOffset;
        if (_file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) != 30 || BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalFileHeader)
        {
            throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' is damaged");
        }
        var dataStart = entry.LocalHeaderOffset + 30L + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (dataStart + entry.CompressedSize > _file.Length)
        {
            throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' runs past the end of the file (truncated?)");
        }
        return dataStart;
    }

    private Stream Decompressing(int index, Stream data, bool leaveOpen) => _entries[index].Method switch
    {
        0 => data,
        8 => new DeflateStream(data, CompressionMode.Decompress, leaveOpen),
        93 => Zstd(data, leaveOpen),
        var method => throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' uses zip compression method {method}, which is not supported (store, deflate and zstd are)"),
    };

    private ZstdSharp.DecompressionStream Zstd(Stream data, bool leaveOpen)
    {
        var zstd = new ZstdSharp.DecompressionStream(data, leaveOpen: leaveOpen);
        zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_dParameter.ZSTD_d_windowLogMax, _limits.MaxZstdWindowLog);
        return zstd;
    }

    /// <summary>
    /// Decompresses every entry, samples included, and checks its size and CRC-32: a log that is
    /// damaged anywhere is refused rather than imported from the parts that happen to read.
    /// </summary>
    /// <exception cref="InspectFormatException">An entry is damaged, inflates past its declared size or needs too large a window.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public void Verify(Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        // In the order of the file, so that it is read front to back.
        var order = new int[_entries.Count];
        var offsets = new uint[_entries.Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
            offsets[i] = _entries[i].LocalHeaderOffset;
        }
        Array.Sort(offsets, order);
        // One window onto the file for every entry: an archive of 65,534 entries makes no garbage of them.
        var window = new BoundedStream(_file);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        var crc = new Crc32();
        try
        {
            long checkedBytes = 0;
            foreach (var index in order)
            {
                var entry = _entries[index];
                crc.Reset();
                long size = 0;
                try
                {
                    window.Reset(DataStart(index), entry.CompressedSize);
                    using var content = new DeclaredSizeStream(Decompressing(index, window, leaveOpen: true), entry.Size, _nameOf, index);
                    int read;
                    while ((read = content.Read(buffer, 0, buffer.Length)) > 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        crc.Append(buffer.AsSpan(0, read));
                        size += read;
                    }
                }
                catch (ZstdSharp.ZstdException e) when (e.Code == ZstdSharp.Unsafe.ZSTD_ErrorCode.ZSTD_error_frameParameter_windowTooLarge)
                {
                    throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' needs a zstd window over {Sizes.Describe(1L << _limits.MaxZstdWindowLog)}, the most the importer allows (zstd levels 1 to 19 stay within it)", e);
                }
                catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or EndOfStreamException)
                {
                    throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' is damaged: {e.Message}", e);
                }
                if (size != entry.Size || crc.GetCurrentHashAsUInt32() != entry.Crc32)
                {
                    throw new InspectFormatException($"the .eval archive entry '{NameOf(index)}' is damaged: its content does not match its checksum");
                }
                checkedBytes += entry.CompressedSize;
                progress?.Invoke(checkedBytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => _file.Dispose();

    // A window onto part of the archive file, moved from entry to entry.
    private sealed class BoundedStream(Stream inner) : Stream
    {
        private long _start;
        private long _length;
        private long _position;

        public void Reset(long start, long length)
        {
            _start = start;
            _length = length;
            _position = 0;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var left = _length - _position;
            if (left <= 0)
            {
                return 0;
            }
            inner.Position = _start + _position;
            var read = inner.Read(buffer, offset, (int)Math.Min(count, left));
            _position += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

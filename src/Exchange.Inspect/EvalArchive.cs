using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.Compression;
using System.Text;
using Exchange.Domain.Findings;

namespace Exchange.Inspect;

/// <summary>
/// The entries of an .eval file, a zip archive. Read by hand rather than with ZipArchive because
/// Inspect (0.3.206 and later) may compress entries with zstd (method 93), which ZipArchive refuses.
/// Entries are streamed, never loaded whole.
/// </summary>
internal sealed class EvalArchive : IDisposable
{
    private const uint EndOfCentralDirectory = 0x06054b50;
    private const uint CentralDirectoryEntry = 0x02014b50;
    private const uint LocalFileHeader = 0x04034b50;
    private readonly Stream _file;
    private readonly Dictionary<string, Entry> _entries;
    private readonly InspectLimits _limits;

    private sealed record Entry(string Name, ushort Method, uint Crc32, long CompressedSize, long Size, long LocalHeaderOffset);

    private EvalArchive(Stream file, Dictionary<string, Entry> entries, InspectLimits limits)
    {
        _file = file;
        _entries = entries;
        _limits = limits;
    }

    public IEnumerable<string> Names => _entries.Keys;

    public bool Contains(string name) => _entries.ContainsKey(name);

    public static bool LooksLikeZip(Stream stream)
    {
        Span<byte> magic = stackalloc byte[4];
        var read = stream.Read(magic);
        stream.Position = 0;
        return read == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == LocalFileHeader;
    }

    /// <summary>Reads the archive's zip directory (APPNOTE.TXT sections 4.3.12 and 4.3.16).</summary>
    /// <exception cref="InspectFormatException">Not a complete zip, damaged, ZIP64, entries named twice, or beyond <paramref name="limits"/>.</exception>
    public static EvalArchive Open(Stream file, InspectLimits limits)
    {
        // The end-of-central-directory record is in the last 64 KiB + 22 bytes (after any comment).
        var tail = (int)Math.Min(file.Length, 65_557);
        var buffer = new byte[tail];
        file.Position = file.Length - tail;
        file.ReadExactly(buffer);
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
        var count = BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(eocd + 10));
        var directorySize = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(eocd + 12));
        var directoryOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(eocd + 16));
        if (directoryOffset == uint.MaxValue || count == ushort.MaxValue)
        {
            throw new InspectFormatException("ZIP64 .eval archives (over 4 GiB or 65,535 entries) are not supported");
        }
        if ((long)directoryOffset + directorySize > file.Length)
        {
            throw new InspectFormatException("not a complete .eval archive: its zip directory points past the end of the file");
        }
        if (directorySize > limits.MaxZipDirectoryBytes)
        {
            throw new InspectFormatException($"the .eval archive's zip directory is {Sizes.Describe(directorySize)}; the importer reads at most {Sizes.Describe(limits.MaxZipDirectoryBytes)}");
        }
        var directory = new byte[directorySize];
        file.Position = directoryOffset;
        file.ReadExactly(directory);
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        long declared = 0;
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            if (at + 46 > directory.Length || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != CentralDirectoryEntry)
            {
                throw new InspectFormatException($"the .eval archive's zip directory is damaged at entry {i}");
            }
            var method = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 10));
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at + 16));
            var compressed = BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at + 20));
            var size = BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at + 24));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 30));
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(directory.AsSpan(at + 32));
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at + 42));
            if (at + 46 + nameLength > directory.Length)
            {
                throw new InspectFormatException($"the .eval archive's zip directory is damaged at entry {i}");
            }
            var name = Encoding.UTF8.GetString(directory, at + 46, nameLength);
            // Two entries of one name would let two zip readers see two different logs in one file.
            if (!entries.TryAdd(name, new Entry(name, method, crc, compressed, size, offset)))
            {
                throw new InspectFormatException($"the .eval archive holds two entries named '{name}'");
            }
            declared += size;
            at += 46 + nameLength + extraLength + commentLength;
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
    public Stream OpenEntry(string name)
    {
        var entry = _entries[name];
        Span<byte> header = stackalloc byte[30];
        // Checked first: some streams refuse a position past their end (found by fuzzing).
        if (entry.LocalHeaderOffset + header.Length > _file.Length)
        {
            throw new InspectFormatException($"the .eval archive entry '{name}' is damaged: it starts past the end of the file");
        }
        _file.Position = entry.LocalHeaderOffset;
        if (_file.Read(header) != 30 || BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalFileHeader)
        {
            throw new InspectFormatException($"the .eval archive entry '{name}' is damaged");
        }
        var dataStart = entry.LocalHeaderOffset + 30 + BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) + BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        if (dataStart + entry.CompressedSize > _file.Length)
        {
            throw new InspectFormatException($"the .eval archive entry '{name}' runs past the end of the file (truncated?)");
        }
        var data = new BoundedStream(_file, dataStart, entry.CompressedSize);
        Stream content = entry.Method switch
        {
            0 => data,
            8 => new DeflateStream(data, CompressionMode.Decompress),
            93 => Zstd(data),
            _ => throw new InspectFormatException($"the .eval archive entry '{name}' uses zip compression method {entry.Method}, which is not supported (store, deflate and zstd are)"),
        };
        return new DeclaredSizeStream(content, entry.Size, name);
    }

    private ZstdSharp.DecompressionStream Zstd(Stream data)
    {
        var zstd = new ZstdSharp.DecompressionStream(data);
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
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            long checkedBytes = 0;
            foreach (var entry in _entries.Values.OrderBy(e => e.LocalHeaderOffset))
            {
                var crc = new Crc32();
                long size = 0;
                try
                {
                    using var content = OpenEntry(entry.Name);
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
                    throw new InspectFormatException($"the .eval archive entry '{entry.Name}' needs a zstd window over {Sizes.Describe(1L << _limits.MaxZstdWindowLog)}, the most the importer allows (zstd levels 1 to 19 stay within it)", e);
                }
                catch (Exception e) when (e is InvalidDataException or ZstdSharp.ZstdException or EndOfStreamException)
                {
                    throw new InspectFormatException($"the .eval archive entry '{entry.Name}' is damaged: {e.Message}", e);
                }
                if (size != entry.Size || crc.GetCurrentHashAsUInt32() != entry.Crc32)
                {
                    throw new InspectFormatException($"the .eval archive entry '{entry.Name}' is damaged: its content does not match its checksum");
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

    // A window onto part of the archive file.
    private sealed class BoundedStream(Stream inner, long start, long length) : Stream
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var left = length - _position;
            if (left <= 0)
            {
                return 0;
            }
            inner.Position = start + _position;
            var read = inner.Read(buffer, offset, (int)Math.Min(count, left));
            _position += read;
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

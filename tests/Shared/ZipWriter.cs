using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Exchange.TestInputs;

/// <summary>One zip entry as it will be written: its data already compressed, and what its headers claim.</summary>
/// <param name="DeclaredSize">The uncompressed size the headers declare, which a hostile archive may lie about.</param>
/// <param name="CentralExtra">Bytes of extra field in its central directory record (to make a large directory).</param>
internal sealed record ZipEntry(string Name, ushort Method, byte[] Data, uint Crc32, long DeclaredSize, int CentralExtra = 0);

/// <summary>
/// Writes zip archives for tests (APPNOTE.TXT), including entries compressed with zstd (method 93),
/// which .NET cannot write, and entries whose headers lie.
/// </summary>
internal static class ZipWriter
{
    public static byte[] Write(IEnumerable<(string Name, byte[] Content)> entries, ushort method)
    {
        using var output = new MemoryStream();
        Write(output, entries.Select(e => new ZipEntry(e.Name, method, Compress(e.Content, method), System.IO.Hashing.Crc32.HashToUInt32(e.Content), e.Content.Length)));
        return output.ToArray();
    }

    public static void Write(Stream output, IEnumerable<ZipEntry> entries)
    {
        var start = output.Position;
        var directory = new MemoryStream();
        var count = 0;
        foreach (var entry in entries)
        {
            var nameBytes = Encoding.UTF8.GetBytes(entry.Name);
            var offset = (uint)(output.Position - start);
            WriteHeader(output, 0x04034b50, entry, nameBytes, central: false, offset);
            output.Write(entry.Data);
            WriteHeader(directory, 0x02014b50, entry, nameBytes, central: true, offset);
            count++;
        }
        var directoryOffset = (uint)(output.Position - start);
        directory.Position = 0;
        directory.CopyTo(output);
        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)directory.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], directoryOffset);
        output.Write(end);
    }

    public static byte[] Compress(byte[] content, ushort method) => Compress(content, 1, method).Data;

    /// <summary>
    /// <paramref name="block"/> repeated <paramref name="times"/> times, compressed as it streams (a bomb is
    /// made without holding its inflated size), with the CRC-32 and size of the whole.
    /// </summary>
    public static (byte[] Data, uint Crc32, long Size) Compress(byte[] block, long times, ushort method, int zstdWindowLog = 0)
    {
        var crc = new Crc32();
        using var buffer = new MemoryStream();
        using (var compressor = Compressor(buffer, method, zstdWindowLog))
        {
            for (long i = 0; i < times; i++)
            {
                compressor.Write(block);
                crc.Append(block);
            }
        }
        return (buffer.ToArray(), crc.GetCurrentHashAsUInt32(), block.LongLength * times);
    }

    private static Stream Compressor(Stream buffer, ushort method, int zstdWindowLog)
    {
        switch (method)
        {
            case 0:
                return new NonClosing(buffer);
            case 8:
                return new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true);
            case 93:
                var zstd = new ZstdSharp.CompressionStream(buffer, level: 3, leaveOpen: true);
                if (zstdWindowLog > 0)
                {
                    zstd.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_windowLog, zstdWindowLog);
                }
                return zstd;
            default:
                throw new ArgumentOutOfRangeException(nameof(method));
        }
    }

    private static void WriteHeader(Stream stream, uint signature, ZipEntry entry, byte[] name, bool central, uint offset)
    {
        var header = new byte[central ? 46 : 30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, signature);
        var at = central ? 6 : 4;
        if (central)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 63);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at), 63);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 4), entry.Method);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 10), entry.Crc32);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 14), (uint)entry.Data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 18), (uint)entry.DeclaredSize);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 22), (ushort)name.Length);
        var extra = central ? entry.CentralExtra : 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 24), (ushort)extra);
        if (central)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(42), offset);
        }
        stream.Write(header);
        stream.Write(name);
        stream.Write(new byte[extra]);
    }

    private sealed class NonClosing(Stream inner) : Stream
    {
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}

using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Exchange.Inspect.Tests;

/// <summary>Writes small zip archives for tests, including entries compressed with zstd (method 93), which .NET cannot write.</summary>
internal static class ZipWriter
{
    public static byte[] Write(IEnumerable<(string Name, byte[] Content)> entries, ushort method)
    {
        using var output = new MemoryStream();
        var directory = new MemoryStream();
        var count = 0;
        foreach (var (name, content) in entries)
        {
            var compressed = Compress(content, method);
            var nameBytes = Encoding.UTF8.GetBytes(name);
            var offset = (uint)output.Position;
            var crc = System.IO.Hashing.Crc32.HashToUInt32(content);
            WriteHeader(output, 0x04034b50, method, crc, compressed.Length, content.Length, nameBytes, central: false, offset);
            output.Write(compressed);
            WriteHeader(directory, 0x02014b50, method, crc, compressed.Length, content.Length, nameBytes, central: true, offset);
            count++;
        }
        var directoryOffset = (uint)output.Position;
        directory.Position = 0;
        directory.CopyTo(output);
        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)directory.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], directoryOffset);
        output.Write(end);
        return output.ToArray();
    }

    private static byte[] Compress(byte[] content, ushort method)
    {
        switch (method)
        {
            case 0:
                return content;
            case 8:
                using (var buffer = new MemoryStream())
                {
                    using (var deflate = new DeflateStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
                    {
                        deflate.Write(content);
                    }
                    return buffer.ToArray();
                }
            case 93:
                using (var compressor = new ZstdSharp.Compressor())
                {
                    return compressor.Wrap(content).ToArray();
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(method));
        }
    }

    private static void WriteHeader(Stream stream, uint signature, ushort method, uint crc, int compressed, int size, byte[] name, bool central, uint offset)
    {
        var header = new byte[central ? 46 : 30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, signature);
        var at = central ? 6 : 4;
        if (central)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(4), 63);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at), 63);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 4), method);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 10), crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 14), (uint)compressed);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(at + 18), (uint)size);
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(at + 22), (ushort)name.Length);
        if (central)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(42), offset);
        }
        stream.Write(header);
        stream.Write(name);
    }
}

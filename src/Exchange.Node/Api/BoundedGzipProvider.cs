using System.IO.Compression;
using Exchange.Domain.Findings;
using Exchange.Domain.IO;
using Grpc.Net.Compression;

namespace Exchange.Node.Api;

/// <summary>
/// gzip for gRPC messages (grpc-encoding: gzip) with a limit on what one message inflates to.
/// grpc-dotnet's own provider inflates a compressed message whole into memory before any size
/// check, so a few kilobytes of compressed zeros could ask the node for gigabytes; this one stops
/// at the limit and refuses the call naming it.
/// </summary>
internal sealed class BoundedGzipProvider(int maxMessageBytes) : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    public Stream CreateDecompressionStream(Stream stream) => new Inflating(new GZipStream(stream, CompressionMode.Decompress), maxMessageBytes);

    private sealed class Inflating(Stream gzip, int max) : ForwardReadStream(gzip)
    {
        private long _read;

        public override int Read(Span<byte> buffer)
        {
            var read = Inner.Read(buffer[..(int)Math.Min(buffer.Length, max - _read + 1)]);
            _read += read;
            if (_read > max)
            {
                GrpcErrors.InvalidArgument("request", $"inflates to more than {Sizes.Describe(max)}, the most the node accepts in one message (Findings:Limits:MaxRequestBytes)");
            }
            return read;
        }

        public override long Position { get => _read; set => throw new NotSupportedException(); }
    }
}

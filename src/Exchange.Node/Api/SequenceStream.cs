using System.Buffers;
using Exchange.Domain.IO;

namespace Exchange.Node.Api;

/// <summary>Reads a <see cref="ReadOnlySequence{T}"/> of bytes (a pipe's buffer) as a stream, without copying it whole.</summary>
internal sealed class SequenceStream(ReadOnlySequence<byte> sequence) : ForwardReadStream
{
    private readonly long _length = sequence.Length;
    private ReadOnlySequence<byte> _left = sequence;

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, _left.Length);
        _left.Slice(0, count).CopyTo(buffer);
        _left = _left.Slice(count);
        return count;
    }

    public override long Length => _length;
    public override long Position { get => _length - _left.Length; set => throw new NotSupportedException(); }
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Exchange.Domain.Findings;
using Google.Protobuf.Reflection;

namespace Exchange.Node.Api;

/// <summary>
/// The body of a gRPC request, read through to grpc-dotnet with every message checked as it
/// arrives (gRPC over HTTP/2 length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian
/// length, then the message): a message longer than the node accepts is refused from its 5-byte
/// prefix, before it is buffered, saying its size and the limit; an uncompressed message with a
/// string field that is not UTF-8 is refused naming the field. Both as INVALID_ARGUMENT with a
/// google.rpc.BadRequest, which grpc-dotnet's own checks (RESOURCE_EXHAUSTED "Received message
/// exceeds the maximum configured message size", UNKNOWN for a parse failure) do not give.
/// </summary>
internal sealed class RequestFrameReader(PipeReader inner, int maxMessageBytes, MessageDescriptor? request) : PipeReader
{
    private const int PrefixBytes = 5;
    private ReadOnlySequence<byte> _last;
    // Offsets in the request body: of the start of the buffer last returned, and of the next message not yet checked.
    private long _bufferStart;
    private long _nextMessage;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken);
        Check(result.Buffer);
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        Check(result.Buffer);
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        _bufferStart += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _bufferStart += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private void Check(ReadOnlySequence<byte> buffer)
    {
        _last = buffer;
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        while (true)
        {
            var at = _nextMessage - _bufferStart;
            if (at < 0 || at + PrefixBytes > buffer.Length)
            {
                return;
            }
            buffer.Slice(at, PrefixBytes).CopyTo(prefix);
            var length = BinaryPrimitives.ReadUInt32BigEndian(prefix[1..]);
            if (length > maxMessageBytes)
            {
                Refuse(buffer, "request", $"is a message of {Sizes.Describe(length)}; the node accepts messages of at most {Sizes.Describe(maxMessageBytes)} (Findings:Limits:MaxRequestBytes)");
            }
            if (at + PrefixBytes + length > buffer.Length)
            {
                return;
            }
            if (prefix[0] == 0 && request is not null && Invalid(buffer.Slice(at + PrefixBytes, length)) is { } field)
            {
                Refuse(buffer, field, "is not valid UTF-8 text");
            }
            _nextMessage += PrefixBytes + length;
        }
    }

    private string? Invalid(ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            return WireText.FirstInvalid(request!, message.FirstSpan);
        }
        var copy = ArrayPool<byte>.Shared.Rent((int)message.Length);
        try
        {
            message.CopyTo(copy);
            return WireText.FirstInvalid(request!, copy.AsSpan(0, (int)message.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    private void Refuse(ReadOnlySequence<byte> buffer, string field, string description)
    {
        // The read is given back before the call ends, so that the server is not left waiting on it.
        inner.AdvanceTo(buffer.Start, buffer.End);
        GrpcErrors.InvalidArgument("invalid request", [new FieldViolation(field, description)]);
    }
}

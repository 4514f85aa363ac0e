using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Pipelines;
using Exchange.Domain.Findings;
using Google.Protobuf.Reflection;

namespace Exchange.Node.Api;

/// <summary>
/// The body of a gRPC request, read through to grpc-dotnet with every message checked as it
/// arrives (gRPC over HTTP/2 length-prefixed messages: 1 byte compressed flag, 4 bytes big-endian
/// length, then the message): a message longer than the node accepts is refused from its 5-byte
/// prefix, before it is buffered, saying its size and the limit; a message with a string field that
/// is not UTF-8 is refused naming the field, whether it came compressed (grpc-encoding gzip, checked
/// as it inflates, and refused once it inflates past the limit) or not. All as INVALID_ARGUMENT with
/// a google.rpc.BadRequest, which grpc-dotnet's own checks (RESOURCE_EXHAUSTED "Received message
/// exceeds the maximum configured message size", UNKNOWN for a parse failure) do not give.
/// </summary>
/// <param name="gzip">Whether the request's grpc-encoding is gzip, the one compression the node takes
/// (<see cref="BoundedGzipProvider"/>); a compressed message in any other is refused by grpc-dotnet.</param>
internal sealed class RequestFrameReader(PipeReader inner, int maxMessageBytes, MessageDescriptor? request, bool gzip = false) : PipeReader
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
            if (request is not null)
            {
                var message = buffer.Slice(at + PrefixBytes, length);
                var field = prefix[0] == 0 ? Invalid(message)
                    : gzip ? InvalidInflated(buffer, message)
                    : null;
                if (field is not null)
                {
                    Refuse(buffer, field, "is not valid UTF-8 text");
                }
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

    // The message as grpc-dotnet will see it once BoundedGzipProvider inflates it. Inflated here too
    // (twice in all: the price of naming the field), into a pooled buffer that grows to at most the limit.
    private string? InvalidInflated(ReadOnlySequence<byte> whole, ReadOnlySequence<byte> message)
    {
        var inflated = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxMessageBytes, Math.Max(1 << 16, message.Length * 4)));
        try
        {
            using var gzipped = new GZipStream(new SequenceStream(message), CompressionMode.Decompress);
            var length = 0;
            int read;
            while (length < maxMessageBytes && (read = gzipped.Read(inflated, length, Math.Min(inflated.Length, maxMessageBytes) - length)) > 0)
            {
                length += read;
                if (length == inflated.Length && length < maxMessageBytes)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxMessageBytes, length * 2L));
                    inflated.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(inflated);
                    inflated = larger;
                }
            }
            Span<byte> more = stackalloc byte[1];
            if (length == maxMessageBytes && gzipped.Read(more) > 0)
            {
                Refuse(whole, "request", $"inflates to more than {Sizes.Describe(maxMessageBytes)}, the most the node accepts in one message (Findings:Limits:MaxRequestBytes)");
            }
            return WireText.FirstInvalid(request!, inflated.AsSpan(0, length));
        }
        catch (InvalidDataException)
        {
            // Not gzip: grpc-dotnet's own inflating fails, and says so.
            return null;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(inflated);
        }
    }

    private void Refuse(ReadOnlySequence<byte> buffer, string field, string description)
    {
        // The read is given back before the call ends, so that the server is not left waiting on it.
        inner.AdvanceTo(buffer.Start, buffer.End);
        GrpcErrors.InvalidArgument("invalid request", [new FieldViolation(field, description)]);
    }
}

namespace Exchange.Domain.IO;

/// <summary>
/// Base of the read-only, forward-only streams that bound or filter input on its way in (an
/// upload's inflation, an archive entry, a request body). A subclass implements
/// <see cref="Read(Span{byte})"/> and says how far it has read (<see cref="Stream.Position"/>);
/// seeking, writing and setting the length throw <see cref="NotSupportedException"/>, and so does
/// <see cref="Length"/> unless overridden. Disposing it disposes <see cref="Inner"/>, the stream it
/// reads from, when one is given.
/// </summary>
public abstract class ForwardReadStream(Stream? inner = null) : Stream
{
    /// <summary>The stream read from, owned by this one; <see cref="InvalidOperationException"/> if none was given.</summary>
    protected Stream Inner => inner ?? throw new InvalidOperationException("this stream reads from no inner stream");

    public abstract override int Read(Span<byte> buffer);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner?.Dispose();
        }
        base.Dispose(disposing);
    }
}

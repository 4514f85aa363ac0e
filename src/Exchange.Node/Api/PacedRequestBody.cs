using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Exchange.Domain.Findings;
using Exchange.Node.Findings;
using Grpc.Core;

namespace Exchange.Node.Api;

/// <summary>
/// The body of a call that streams requests to the node (ImportInspectLog; any such method added
/// later too), which must keep arriving: some bytes within <see cref="ImportOptions.IdleTimeout"/> of
/// the node asking for more, and, once the node has waited that long in all, at an average of at
/// least <see cref="ImportOptions.MinBytesPerSecond"/> over the time it waited. Otherwise the read
/// fails with DEADLINE_EXCEEDED naming the setting, and whatever the call holds (a spooled file, an
/// import slot) is released as the call ends. grpc-dotnet turns Kestrel's own minimum data rate off
/// for these calls, which left an upload that went quiet holding its slot for as long as it liked.
/// Only time spent waiting for the client counts, not the node's own (waiting for a slot, writing to
/// disk: it does not read then, and HTTP/2 flow control holds the client); and it is the wall
/// clock's, not the node's <see cref="TimeProvider"/>, since a quiet network is physical time.
/// </summary>
internal sealed class PacedRequestBody(PipeReader inner, ImportOptions options) : PipeReader
{
    private ReadOnlySequence<byte> _last;
    private long _consumed;
    private TimeSpan _waited;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(options.IdleTimeout);
        var asked = Stopwatch.GetTimestamp();
        ReadResult result;
        try
        {
            result = await inner.ReadAsync(idle.Token);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"nothing of the upload arrived for {Seconds(options.IdleTimeout)} (Findings:Imports:IdleTimeout); the upload is dropped, send it again"));
        }
        _waited += Stopwatch.GetElapsedTime(asked);
        _last = result.Buffer;
        var received = _consumed + result.Buffer.Length;
        if (!result.IsCompleted && options.MinBytesPerSecond > 0 && _waited > options.IdleTimeout && received < options.MinBytesPerSecond * _waited.TotalSeconds)
        {
            // The read is given back before the call ends, so that the server is not left waiting on it.
            inner.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"the upload arrives at {received / _waited.TotalSeconds:0} bytes/s on average ({Sizes.Describe(received)} in {Seconds(_waited)}); " +
                $"the node takes uploads of at least {options.MinBytesPerSecond} bytes/s (Findings:Imports:MinBytesPerSecond); the upload is dropped"));
        }
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }
        _last = result.Buffer;
        return true;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        _consumed += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _consumed += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.#} s";
}

using System.Diagnostics;
using Exchange.Domain.Findings;
using Exchange.Node.Findings;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.Node.Api;

/// <summary>
/// A client stream that must keep coming: each message within <see cref="ImportOptions.IdleTimeout"/>
/// of the node asking for it, and, once the node has waited that long in all, at an average of at
/// least <see cref="ImportOptions.MinBytesPerSecond"/> over the time it waited. Otherwise the read
/// fails with DEADLINE_EXCEEDED naming the setting, and whatever the call holds (a spooled file, an
/// import slot) is released as the call ends. Only time spent waiting for the client counts, not the
/// node's own (a wait for a slot, writing to disk); and it is the wall clock's, not the node's
/// <see cref="TimeProvider"/>: a quiet network is physical time.
/// </summary>
internal sealed class PacedStreamReader<T>(IAsyncStreamReader<T> inner, ImportOptions options) : IAsyncStreamReader<T>
{
    private TimeSpan _waited;
    private long _bytes;

    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(options.IdleTimeout);
        var asked = Stopwatch.GetTimestamp();
        bool more;
        try
        {
            more = await inner.MoveNext(idle.Token);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"nothing of the upload arrived for {Seconds(options.IdleTimeout)} (Findings:Imports:IdleTimeout); the upload is dropped, send it again"));
        }
        _waited += Stopwatch.GetElapsedTime(asked);
        if (more)
        {
            _bytes += (inner.Current as IMessage)?.CalculateSize() ?? 0;
            if (options.MinBytesPerSecond > 0 && _waited > options.IdleTimeout && _bytes < options.MinBytesPerSecond * _waited.TotalSeconds)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                    $"the upload arrives at {_bytes / _waited.TotalSeconds:0} bytes/s on average ({Sizes.Describe(_bytes)} in {Seconds(_waited)}); " +
                    $"the node takes uploads of at least {options.MinBytesPerSecond} bytes/s (Findings:Imports:MinBytesPerSecond); the upload is dropped"));
            }
        }
        return more;
    }

    private static string Seconds(TimeSpan time) => $"{time.TotalSeconds:0.#} s";
}

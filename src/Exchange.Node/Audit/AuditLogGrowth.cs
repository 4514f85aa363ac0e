namespace Exchange.Node.Audit;

/// <summary>
/// Tells whoever waits (subscriptions) that the integrator has placed new entries in the log. Every
/// waiter holds the task of the next growth; a growth completes it and hands out a new one, so no
/// waiter blocks the integrator and none misses a growth that happens while it reads.
/// </summary>
public sealed class AuditLogGrowth
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next growth. Take it before reading, then wait on it.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Grew() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

namespace Exchange.Node.Identity;

/// <summary>
/// Tells the long-lived calls of this process (subscriptions) that tokens were just revoked, so they
/// check theirs at once instead of at their next periodic check. Another replica's revocations
/// reach them by that periodic check.
/// </summary>
public sealed class TokenRevocations
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next revocation.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Announce() => Interlocked.Exchange(ref _next, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

namespace Exchange.Node.Subscriptions;

/// <summary>Bounds the open subscriptions so that partner systems cannot take every database connection.</summary>
public sealed class SubscriptionSlots(int capacity)
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    public IDisposable? TryTake()
    {
        if (Interlocked.Increment(ref _open) > capacity)
        {
            Interlocked.Decrement(ref _open);
            return null;
        }
        return new Slot(this);
    }

    private sealed class Slot(SubscriptionSlots slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Interlocked.Decrement(ref slots._open);
            }
        }
    }
}

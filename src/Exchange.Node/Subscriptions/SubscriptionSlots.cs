namespace Exchange.Node.Subscriptions;

/// <summary>
/// Bounds the open subscriptions, in all and per OAuth client, so that partner systems cannot take
/// every database connection, and one partner cannot take every slot.
/// </summary>
public sealed class SubscriptionSlots(int capacity, int perClient)
{
    private readonly Dictionary<string, int> _byClient = new(StringComparer.Ordinal);
    private int _open;

    public int Open
    {
        get
        {
            lock (_byClient)
            {
                return _open;
            }
        }
    }

    /// <summary>A slot, or null and why not.</summary>
    public IDisposable? TryTake(string clientId, out string refusal)
    {
        lock (_byClient)
        {
            var mine = _byClient.GetValueOrDefault(clientId);
            if (_open >= capacity)
            {
                refusal = $"this node serves at most {capacity} subscriptions at once; try again later";
                return null;
            }
            if (mine >= perClient)
            {
                refusal = $"client '{clientId}' already has {mine} subscriptions open, the most one client may have";
                return null;
            }
            _open++;
            _byClient[clientId] = mine + 1;
        }
        refusal = "";
        return new Slot(this, clientId);
    }

    private void Release(string clientId)
    {
        lock (_byClient)
        {
            _open--;
            if (--_byClient[clientId] == 0)
            {
                _byClient.Remove(clientId);
            }
        }
    }

    private sealed class Slot(SubscriptionSlots slots, string clientId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(clientId);
            }
        }
    }
}

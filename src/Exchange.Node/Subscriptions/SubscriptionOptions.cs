namespace Exchange.Node.Subscriptions;

/// <summary>Configuration section "Subscriptions".</summary>
public sealed class SubscriptionOptions
{
    public const string Section = "Subscriptions";

    /// <summary>Open subscriptions at once; one more is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxSubscribers { get; set; } = 256;

    /// <summary>Events read from the database per query; also the most a subscriber holds in memory.</summary>
    public int PageSize { get; set; } = 200;

    /// <summary>
    /// How often an idle subscription looks at the log even without a signal: the signal is in-process,
    /// and another process (a second replica) may have integrated events.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}

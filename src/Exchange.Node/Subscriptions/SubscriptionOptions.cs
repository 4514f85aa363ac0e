namespace Exchange.Node.Subscriptions;

/// <summary>Configuration section "Subscriptions".</summary>
public sealed class SubscriptionOptions
{
    public const string Section = "Subscriptions";

    /// <summary>Open subscriptions at once; one more is refused with RESOURCE_EXHAUSTED.</summary>
    public int MaxSubscribers { get; set; } = 256;

    /// <summary>At once from one OAuth client, so that one partner cannot take every slot.</summary>
    public int MaxPerClient { get; set; } = 16;

    /// <summary>Events read from the database per query.</summary>
    public int PageSize { get; set; } = 200;

    /// <summary>Sealed finding content per page (one event at least): what a subscriber holds in memory.</summary>
    public long PageContentBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long one write may wait for a subscriber that does not read. Past it the stream is cut
    /// and its slot freed; the subscriber resumes from its last cursor when it is back.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often an idle subscription looks at the log even without a signal: the signal is in-process,
    /// and another process (a second replica) may have integrated events.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often an open subscription checks that its access token is still valid (not revoked):
    /// the longest a client removed on another replica keeps a stream. Revocations in this process
    /// are seen at once.
    /// </summary>
    public TimeSpan TokenCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

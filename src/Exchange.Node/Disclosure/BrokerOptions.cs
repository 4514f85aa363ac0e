namespace Exchange.Node.Disclosure;

public enum BrokerTransport
{
    /// <summary>RabbitMQ through MassTransit: real deployments and the broker tests.</summary>
    RabbitMq,

    /// <summary>MassTransit's in-memory transport, shared by the nodes of one process: the demo and fast tests.</summary>
    InMemory,
}

/// <summary>Section <c>Broker</c>: how this node reaches its peers.</summary>
public sealed class BrokerOptions
{
    public const string Section = "Broker";

    public BrokerTransport Transport { get; set; } = BrokerTransport.RabbitMq;
    public string Host { get; set; } = "127.0.0.1";
    public ushort Port { get; set; } = 5672;
    public string VirtualHost { get; set; } = "/";
    /// <summary>
    /// The nodes of a RabbitMQ cluster ("host" or "host:port"), tried in turn when one is down.
    /// Empty: <see cref="Host"/> alone.
    /// </summary>
    public string[] ClusterNodes { get; set; } = [];
    /// <summary>This institute's own broker user, which may read only this institute's queues.</summary>
    public string Username { get; set; } = "";
    public string Password { get; set; } = "";
    public bool UseTls { get; set; }
    public ushort PrefetchCount { get; set; } = 32;

    /// <summary>How often the outbox is polled when nothing wakes the dispatcher earlier.</summary>
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public int OutboxBatchSize { get; set; } = 200;
    /// <summary>
    /// How long one send may wait for the broker's confirm. A confirm lost when the broker restarts
    /// would otherwise hold the dispatcher for ever; a send that times out is retried, and if the
    /// first did arrive after all, the recipient drops the second as a duplicate.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long after a send of a finding or a withdrawal its receipt is awaited before the same
    /// envelope is sent again; each further resend waits twice as long, up to
    /// <see cref="MaxReceiptWait"/>. The recipient drops the copy as a duplicate and answers it with
    /// the receipt it sent before, so a resend costs one message each way and never a second
    /// disclosure. Too short only costs duplicates under load; the default is well past the time a
    /// healthy network takes to answer.
    /// </summary>
    public TimeSpan ReceiptTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>The longest wait between two resends of an unanswered envelope.</summary>
    public TimeSpan MaxReceiptWait { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>
    /// How long after its first send an unanswered envelope is no longer sent again (a recipient
    /// that refuses it without a receipt, one that left the network). It stays unanswered, in the
    /// <c>receipts</c> health check and the gauge, for someone to look at.
    /// </summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromDays(7);
    /// <summary>How often held (embargoed) disclosures are checked for release.</summary>
    public TimeSpan EmbargoCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The exchange senders write to for a queue: a name different from the queue, so that
    /// permission to send to a peer never means permission to touch its queue.</summary>
    public static string DeliveriesExchange(string queue) => $"{queue}.deliveries";
}

namespace Exchange.Node.Persistence;

/// <summary>
/// An envelope waiting to be sent, or sent and waiting for its receipt. Written in the transaction
/// that decided to send it, so nothing decided is lost and nothing is sent that was not decided.
/// </summary>
public sealed class OutboxMessageRecord
{
    public long Id { get; set; }
    public required string MessageId { get; set; }
    public required string Recipient { get; set; }
    public int Kind { get; set; }
    public string? FindingId { get; set; }
    public int FindingVersion { get; set; }
    public int Label { get; set; }
    public required byte[] Envelope { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Not sent before this time: back-off after a failure.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    /// <summary>
    /// For a kind the recipient answers with a signed receipt (finding, withdrawal): when to send the
    /// same envelope again if no receipt has come by then. Null when unsent, answered or not awaited.
    /// A send the broker confirmed can still vanish (an exchange deleted and re-declared unbound,
    /// a queue lost with its node); only the recipient's receipt says it arrived.
    /// </summary>
    public DateTimeOffset? ResendAt { get; set; }
    /// <summary>How many times the envelope was sent again for want of a receipt.</summary>
    public int Resends { get; set; }
    /// <summary>
    /// For a receipt: the message id it answers, so that the same envelope received again (the
    /// origin never saw our receipt) is answered with this receipt again rather than dropped.
    /// </summary>
    public string? Answers { get; set; }
    /// <summary>Set when the message must not go out after all (a withdrawal overtook it).</summary>
    public DateTimeOffset? CancelledAt { get; set; }
    public DateTimeOffset? AnsweredAt { get; set; }
    public bool? Accepted { get; set; }
    public string? AnswerReason { get; set; }
    /// <summary>The recipient's signed receipt, kept as evidence of delivery.</summary>
    public byte[]? Receipt { get; set; }
}

using Exchange.Node.Persistence;
using Exchange.V1;

namespace Exchange.Node.Disclosure;

/// <summary>
/// Findings and withdrawals sent, not cancelled, and still without a receipt past the deadline
/// (<see cref="BrokerOptions.ReceiptTimeout"/> after their first send): what the <c>receipts</c>
/// health check and the <c>exchange.disclosures.unanswered</c> gauge report, whether they are still
/// being sent again, failing to be, or given up on.
/// </summary>
public static class Unanswered
{
    public static IQueryable<OutboxMessageRecord> Of(IQueryable<OutboxMessageRecord> outbox, DateTimeOffset now, TimeSpan receiptTimeout)
    {
        var cutoff = now - receiptTimeout;
        return outbox.Where(o => (o.Kind == (int)EnvelopeKind.Finding || o.Kind == (int)EnvelopeKind.Withdrawal)
                                 && o.SentAt != null && o.SentAt < cutoff && o.AnsweredAt == null && o.CancelledAt == null);
    }
}

using Exchange.Domain.Text;
using Exchange.Node.Audit;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

/// <summary>
/// Sends what the outbox holds, oldest first, many at a time; a row is marked sent only once the
/// broker has confirmed it, and a failed send is retried with back-off. A crash between the confirm
/// and the mark means one more send, which the recipient drops as a duplicate.
/// The broker's confirm is not the end of it: a finding or withdrawal is sent again, with the same
/// message id and bytes, until the recipient's signed receipt comes back
/// (<see cref="BrokerOptions.ReceiptTimeout"/>, doubling to <see cref="BrokerOptions.MaxReceiptWait"/>),
/// so a message lost past the confirm (an exchange deleted and re-declared unbound, a broker that
/// lost a queue) is delivered in the end rather than vanishing.
/// </summary>
internal sealed class OutboxDispatcher(
    IServiceScopeFactory scopes,
    IEnvelopeTransport transport,
    PeerDirectory peers,
    OutboxSignal signal,
    TimeProvider time,
    IOptions<BrokerOptions> options,
    ILogger<OutboxDispatcher> logger) : BackgroundService
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await DispatchBatchAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Outbox dispatch failed; retrying");
            }
            if (sent < options.Value.OutboxBatchSize)
            {
                await signal.WaitAsync(options.Value.OutboxPollInterval, stoppingToken);
            }
        }
    }

    internal async Task<int> DispatchBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var audit = scope.ServiceProvider.GetRequiredService<AuditRecorder>();
        var claimed = await ClaimBatchAsync(db, time.GetUtcNow(), cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }
        var batch = await GiveUpOnAsync(db, claimed, cancellationToken);

        // Sent concurrently: the broker confirms them in a pipeline rather than one round trip each.
        using var sendTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        sendTimeout.CancelAfter(options.Value.SendTimeout);
        var failures = await Task.WhenAll(batch.Select(async row =>
        {
            try
            {
                // WaitAsync as well as the token: a send that ignores cancellation still lets go.
                await transport.SendAsync(peers.Get(row.Recipient).Queue, row.Envelope, row.MessageId, sendTimeout.Token)
                    .WaitAsync(options.Value.SendTimeout, cancellationToken);
                return null;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return e;
            }
        }));

        var sentAt = time.GetUtcNow();
        var firstSends = new bool[batch.Count];
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        for (var i = 0; i < batch.Count; i++)
        {
            var row = batch[i];
            var resend = row.SentAt is not null;
            if (failures[i] is { } failure)
            {
                row.Attempts++;
                row.LastError = TextCut.Cut(failure.Message, 2000);
                if (resend)
                {
                    // No quicker than the receipt deadlines: a recipient whose exchange routes nowhere
                    // is not sent everything again every minute.
                    var backoff = Backoff(row.Attempts);
                    var wait = ReceiptWait(row.Resends);
                    row.ResendAt = sentAt + (backoff > wait ? backoff : wait);
                }
                else
                {
                    row.NextAttemptAt = sentAt + Backoff(row.Attempts);
                }
                logger.LogWarning("Sending {MessageId} to {Recipient} failed (attempt {Attempts}): {Error}", row.MessageId, row.Recipient, row.Attempts, failure.Message);
                continue;
            }
            row.LastError = null;
            if (resend)
            {
                row.Resends++;
                logger.LogInformation("Sent {Kind} {MessageId} to {Recipient} again ({Resends}): no receipt since {SentAt:O}",
                    (EnvelopeKind)row.Kind, row.MessageId, row.Recipient, row.Resends, row.SentAt);
            }
            else
            {
                row.SentAt = sentAt;
                firstSends[i] = true;
            }
            row.ResendAt = AwaitsReceipt(row) ? sentAt + ReceiptWait(row.Resends) : null;
            if (!resend && row.Kind == (int)EnvelopeKind.Finding)
            {
                audit.Record(new AuditEvent
                {
                    Kind = AuditEventKind.DisclosureSent,
                    Actor = "outbox",
                    FindingId = row.FindingId ?? "",
                    FindingVersion = row.FindingVersion,
                    Label = (TlpLevel)row.Label,
                    Counterparty = row.Recipient,
                    MessageId = row.MessageId,
                });
            }
        }
        // Pending becomes Sent only if nothing moved it on meanwhile: the receipt may already be in.
        foreach (var sent in batch.Where((row, i) => firstSends[i] && row.Kind == (int)EnvelopeKind.Finding).GroupBy(r => (r.FindingId, r.FindingVersion)))
        {
            var recipients = sent.Select(r => r.Recipient).ToList();
            await db.Decisions
                .Where(d => d.FindingId == sent.Key.FindingId && d.FindingVersion == sent.Key.FindingVersion && recipients.Contains(d.InstituteId) && d.Delivery == (int)DeliveryState.Pending)
                .ExecuteUpdateAsync(u => u.SetProperty(d => d.Delivery, (int)DeliveryState.Sent).SetProperty(d => d.UpdatedAt, sentAt), cancellationToken);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return batch.Count;
    }

    /// <summary>
    /// The rows this dispatcher sends next. On PostgreSQL, replicas of one institute share the
    /// database and each runs a dispatcher, so a row is claimed before it is sent: its next attempt
    /// is moved past a lease in the same statement that picks it, skipping rows another replica has
    /// locked. No lock is held while sending. A replica that dies holding a claim only delays those
    /// rows until the lease ends; they are then sent again and the recipient drops any duplicate.
    /// </summary>
    private async Task<List<OutboxMessageRecord>> ClaimBatchAsync(NodeDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var size = options.Value.OutboxBatchSize;
        if (!db.Database.IsNpgsql())
        {
            // A SQLite file belongs to one node process, so there is one dispatcher and nothing to claim against.
            var unsent = await db.Outbox
                .Where(o => o.SentAt == null && o.CancelledAt == null && o.NextAttemptAt <= now)
                .OrderBy(o => o.Id)
                .Take(size)
                .ToListAsync(cancellationToken);
            if (unsent.Count == size)
            {
                return unsent;
            }
            var unanswered = await db.Outbox
                .Where(o => o.ResendAt != null && o.ResendAt <= now && o.AnsweredAt == null && o.CancelledAt == null)
                .OrderBy(o => o.Id)
                .Take(size - unsent.Count)
                .ToListAsync(cancellationToken);
            return [.. unsent, .. unanswered];
        }
        // Long enough for the sends (each bounded by SendTimeout) and the marking that follows them.
        var leaseEnds = now + options.Value.SendTimeout * 2;
        var claimed = await db.Outbox.FromSql($"""
            UPDATE outbox SET
                "NextAttemptAt" = CASE WHEN "SentAt" IS NULL THEN {leaseEnds} ELSE "NextAttemptAt" END,
                "ResendAt" = CASE WHEN "SentAt" IS NULL THEN "ResendAt" ELSE {leaseEnds} END
            WHERE "Id" IN (
                SELECT "Id" FROM outbox
                WHERE "CancelledAt" IS NULL AND (
                    ("SentAt" IS NULL AND "NextAttemptAt" <= {now})
                    OR ("ResendAt" <= {now} AND "AnsweredAt" IS NULL))
                ORDER BY "Id" LIMIT {size}
                FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).ToListAsync(cancellationToken);
        return [.. claimed.OrderBy(o => o.Id)];
    }

    /// <summary>
    /// Of the rows claimed, those first sent more than <see cref="BrokerOptions.GiveUpAfter"/> ago
    /// are sent no more (saved at once, logged); the rest are returned to be sent.
    /// </summary>
    private async Task<List<OutboxMessageRecord>> GiveUpOnAsync(NodeDbContext db, List<OutboxMessageRecord> claimed, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var stale = claimed.Where(r => AwaitsReceipt(r) && r.SentAt is { } first && now - first > options.Value.GiveUpAfter).ToList();
        foreach (var row in stale)
        {
            row.ResendAt = null;
            row.LastError = $"no receipt since {row.SentAt:O} after {row.Resends} resends: not sent again";
            logger.LogError("Gave up sending {Kind} {MessageId} to {Recipient} again: no receipt since {SentAt:O} after {Resends} resends",
                (EnvelopeKind)row.Kind, row.MessageId, row.Recipient, row.SentAt, row.Resends);
        }
        if (stale.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        return [.. claimed.Except(stale)];
    }

    /// <summary>Findings and withdrawals are answered with a signed receipt; nothing else is.</summary>
    private static bool AwaitsReceipt(OutboxMessageRecord row) =>
        row.Kind is (int)EnvelopeKind.Finding or (int)EnvelopeKind.Withdrawal;

    private TimeSpan ReceiptWait(int resends)
    {
        var wait = options.Value.ReceiptTimeout * Math.Pow(2, Math.Min(resends, 20));
        return wait < options.Value.MaxReceiptWait ? wait : options.Value.MaxReceiptWait;
    }

    private static TimeSpan Backoff(int attempts)
    {
        var seconds = Math.Min(Math.Pow(2, Math.Min(attempts, 10)) * 0.5, MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (0.8 + Random.Shared.NextDouble() * 0.4));
    }
}

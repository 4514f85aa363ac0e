using Exchange.Domain.Policy;
using Exchange.Node.Audit;
using Exchange.Node.Findings;
using Exchange.Node.Persistence;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Disclosure;

/// <summary>
/// Turns decisions into rows in the caller's unit of work: the decisions, an outbox envelope for
/// each recipient allowed now, withdrawals for those who must forget, and the audit events of each.
/// Nothing here is saved: it commits with the change that caused it, or not at all.
/// </summary>
public sealed class DisclosureWriter(NodeDbContext db, EnvelopeFactory envelopes, AuditRecorder audit, DisclosurePolicy policy, FindingProtector protector)
{
    private static readonly int[] Delivered = [(int)DeliveryState.Pending, (int)DeliveryState.Sent, (int)DeliveryState.Acknowledged];

    public void Decide(Finding finding, IReadOnlyList<PolicyDecision> decisions, string actor, DateTimeOffset now)
    {
        foreach (var decision in decisions)
        {
            db.Decisions.Add(decision.ToRecord(finding.Id, finding.Version, now));
            var entry = new AuditEvent
            {
                Kind = AuditEventKind.DisclosureDecided,
                Actor = actor,
                FindingId = finding.Id,
                FindingVersion = finding.Version,
                Label = finding.Label.Level,
                Counterparty = decision.InstituteId,
                Outcome = decision.Outcome,
            };
            entry.Reasons.AddRange(decision.Reasons.Select(r => r.ToAudit()));
            audit.Record(entry);
            if (decision.Outcome == DisclosureOutcome.Allow)
            {
                db.Outbox.Add(envelopes.Finding(finding, decision.ToProto(DeliveryState.Pending)));
            }
        }
    }

    /// <summary>
    /// A new version replaces <paramref name="previousVersion"/>: its held disclosures are cancelled,
    /// and each institute that holds an earlier version but may not have the new one is told to
    /// withdraw the version it holds, once. Its envelope names that version and that version's
    /// label, nothing of the new one, since the broker reads envelope headers.
    /// </summary>
    public async Task SupersedeAsync(string findingId, int previousVersion, IReadOnlyList<PolicyDecision> next, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var earlier = await db.Decisions.Where(d => d.FindingId == findingId && d.FindingVersion <= previousVersion).ToListAsync(cancellationToken);
        var labels = await LabelsAsync(findingId, cancellationToken);
        CancelHeld(earlier, findingId, labels, actor, now, "superseded by a newer version");
        var permitted = next.Where(d => d.Permits).Select(d => d.InstituteId).ToHashSet();
        foreach (var holding in await HoldingsAsync(findingId, earlier, labels, cancellationToken))
        {
            if (!permitted.Contains(holding.Recipient) && !holding.AlreadyTold)
            {
                db.Outbox.Add(envelopes.Withdrawal(holding.Recipient, findingId, holding.Version, holding.Label, "superseded by a version not shared with you", now));
            }
        }
    }

    /// <summary>
    /// Every institute that was sent (or was about to be sent) any version is told to withdraw the
    /// newest version it holds, under that version's label. The origin's reason (its free text) goes
    /// only to those holding the version withdrawn; the others are told only that the origin withdrew it.
    /// </summary>
    public async Task WithdrawAsync(FindingRecord current, string reason, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var decisions = await db.Decisions.Where(d => d.FindingId == current.Id).ToListAsync(cancellationToken);
        var labels = await LabelsAsync(current.Id, cancellationToken);
        CancelHeld(decisions, current.Id, labels, actor, now, "withdrawn");
        // Best effort: what is still in the outbox stays there. If one is in flight this moment, the
        // withdrawal below reaches its recipient anyway, which then refuses or withdraws it.
        var unsent = await db.Outbox.Where(o => o.FindingId == current.Id && o.Kind == (int)EnvelopeKind.Finding && o.SentAt == null && o.CancelledAt == null)
            .ToListAsync(cancellationToken);
        foreach (var row in unsent)
        {
            row.CancelledAt = now;
        }
        foreach (var holding in await HoldingsAsync(current.Id, decisions, labels, cancellationToken))
        {
            var told = holding.Version == current.Version ? reason : WithheldReason;
            db.Outbox.Add(envelopes.Withdrawal(holding.Recipient, current.Id, holding.Version, holding.Label, told, now));
        }
    }

    /// <summary>What a recipient that does not hold the withdrawn version is told instead of the origin's words.</summary>
    public const string WithheldReason = "withdrawn by its origin";

    private sealed record Holding(string Recipient, int Version, TlpLevel Label, bool AlreadyTold);

    /// <summary>Per recipient, the newest version it was sent or is about to be sent, and whether a withdrawal of it already went.</summary>
    private async Task<IReadOnlyList<Holding>> HoldingsAsync(string findingId, IEnumerable<DecisionRecord> decisions, IReadOnlyDictionary<int, TlpLevel> labels, CancellationToken cancellationToken)
    {
        var told = (await db.Outbox.AsNoTracking()
                .Where(o => o.FindingId == findingId && o.Kind == (int)EnvelopeKind.Withdrawal)
                .Select(o => new { o.Recipient, o.FindingVersion })
                .ToListAsync(cancellationToken))
            .ToLookup(o => o.Recipient, o => o.FindingVersion);
        return decisions.Where(d => Delivered.Contains(d.Delivery))
            .GroupBy(d => d.InstituteId)
            .Select(g =>
            {
                var version = g.Max(d => d.FindingVersion);
                return new Holding(g.Key, version, labels[version], told[g.Key].Any(v => v >= version));
            })
            .OrderBy(h => h.Recipient, StringComparer.Ordinal)
            .ToList();
    }

    private async Task<IReadOnlyDictionary<int, TlpLevel>> LabelsAsync(string findingId, CancellationToken cancellationToken) =>
        (await db.Findings.AsNoTracking().Where(f => f.Id == findingId).Select(f => new { f.Version, f.Label }).ToListAsync(cancellationToken))
            .ToDictionary(f => f.Version, f => (TlpLevel)f.Label);

    /// <summary>Held disclosures whose embargo has lifted: decided again now, then sent or cancelled.</summary>
    public async Task<int> ReleaseDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var due = await db.Decisions.Where(d => d.Delivery == (int)DeliveryState.Held && d.ScheduledAt <= now).OrderBy(d => d.Id).Take(500).ToListAsync(cancellationToken);
        foreach (var group in due.GroupBy(d => (d.FindingId, d.FindingVersion)))
        {
            var record = await db.Findings.SingleAsync(f => f.Id == group.Key.FindingId && f.Version == group.Key.FindingVersion, cancellationToken);
            var finding = record.ToFinding(protector);
            foreach (var held in group)
            {
                held.UpdatedAt = now;
                // Agreements may have ended, or the finding been withdrawn, while it was held.
                var decision = policy.DecideFor(DisclosureSubject.From(finding) with { EmbargoUntil = null }, held.InstituteId, now);
                if (!record.IsCurrent || !decision.Permits)
                {
                    held.Delivery = (int)DeliveryState.Cancelled;
                    var cancelled = new AuditEvent
                    {
                        Kind = AuditEventKind.DisclosureCancelled,
                        Actor = "embargo",
                        FindingId = record.Id,
                        FindingVersion = record.Version,
                        Label = finding.Label.Level,
                        Counterparty = held.InstituteId,
                        Detail = record.IsCurrent ? "no longer allowed when the embargo lifted" : "superseded while held",
                    };
                    cancelled.Reasons.AddRange(decision.Reasons.Select(r => r.ToAudit()));
                    audit.Record(cancelled);
                    continue;
                }
                held.Delivery = (int)DeliveryState.Pending;
                var released = new AuditEvent
                {
                    Kind = AuditEventKind.EmbargoReleased,
                    Actor = "embargo",
                    FindingId = record.Id,
                    FindingVersion = record.Version,
                    Label = finding.Label.Level,
                    Counterparty = held.InstituteId,
                    Outcome = DisclosureOutcome.Allow,
                };
                released.Reasons.AddRange(decision.Reasons.Select(r => r.ToAudit()));
                audit.Record(released);
                db.Outbox.Add(envelopes.Finding(finding, decision.ToProto(DeliveryState.Pending)));
            }
        }
        return due.Count;
    }

    private void CancelHeld(IEnumerable<DecisionRecord> decisions, string findingId, IReadOnlyDictionary<int, TlpLevel> labels, string actor, DateTimeOffset now, string why)
    {
        foreach (var held in decisions.Where(d => d.Delivery == (int)DeliveryState.Held))
        {
            held.Delivery = (int)DeliveryState.Cancelled;
            held.UpdatedAt = now;
            audit.Record(new AuditEvent
            {
                Kind = AuditEventKind.DisclosureCancelled,
                Actor = actor,
                FindingId = findingId,
                FindingVersion = held.FindingVersion,
                Label = labels[held.FindingVersion],
                Counterparty = held.InstituteId,
                Detail = why,
            });
        }
    }
}

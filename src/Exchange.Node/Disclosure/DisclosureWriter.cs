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
    /// and institutes that had an earlier version but may not have the new one are told to withdraw it.
    /// </summary>
    public async Task SupersedeAsync(string findingId, int previousVersion, TlpLevel previousLabel, IReadOnlyList<PolicyDecision> next, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var earlier = await db.Decisions.Where(d => d.FindingId == findingId && d.FindingVersion <= previousVersion).ToListAsync(cancellationToken);
        CancelHeld(earlier, findingId, previousLabel, actor, now, "superseded by a newer version");
        var permitted = next.Where(d => d.Permits).Select(d => d.InstituteId).ToHashSet();
        foreach (var recipient in earlier.Where(d => Delivered.Contains(d.Delivery)).Select(d => d.InstituteId).Distinct().Where(r => !permitted.Contains(r)))
        {
            db.Outbox.Add(envelopes.Withdrawal(recipient, findingId, previousVersion, previousLabel, "superseded by a version not shared with you", now));
        }
    }

    /// <summary>Every institute that was sent (or was about to be sent) any version is told to withdraw it.</summary>
    public async Task WithdrawAsync(FindingRecord current, string reason, string actor, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var label = (TlpLevel)current.Label;
        var decisions = await db.Decisions.Where(d => d.FindingId == current.Id).ToListAsync(cancellationToken);
        CancelHeld(decisions, current.Id, label, actor, now, "withdrawn");
        // Best effort: what is still in the outbox stays there. If one is in flight this moment, the
        // withdrawal below reaches its recipient anyway, which then refuses or withdraws it.
        var unsent = await db.Outbox.Where(o => o.FindingId == current.Id && o.Kind == (int)EnvelopeKind.Finding && o.SentAt == null && o.CancelledAt == null)
            .ToListAsync(cancellationToken);
        foreach (var row in unsent)
        {
            row.CancelledAt = now;
        }
        foreach (var recipient in decisions.Where(d => Delivered.Contains(d.Delivery)).Select(d => d.InstituteId).Distinct())
        {
            db.Outbox.Add(envelopes.Withdrawal(recipient, current.Id, current.Version, label, reason, now));
        }
    }

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

    private void CancelHeld(IEnumerable<DecisionRecord> decisions, string findingId, TlpLevel label, string actor, DateTimeOffset now, string why)
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
                Label = label,
                Counterparty = held.InstituteId,
                Detail = why,
            });
        }
    }
}

using System.Diagnostics.Metrics;
using Exchange.V1;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Telemetry;

/// <summary>
/// The node's metrics (meter <see cref="MeterName"/>), counted from the audit events when they are
/// committed (see <see cref="CommittedAuditCounter"/>), so a metric says what the audit log says.
/// Each node's meter carries its institute id, so nodes of one process (the demo, tests) stay apart.
/// </summary>
public sealed class NodeMetrics
{
    public const string MeterName = "Exchange.Node";

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _acknowledged;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _received;
    private readonly Counter<long> _rejected;
    private long _outboxDepth = -1;
    private long _auditSize = -1;
    private long _unanswered = -1;

    public NodeMetrics(IMeterFactory meters, IOptions<NodeOptions> node)
    {
        Meter = meters.Create(new MeterOptions(MeterName) { Tags = [new("exchange.institute", node.Value.InstituteId)] });
        _submitted = Meter.CreateCounter<long>("exchange.findings.submitted", "{finding}", "Findings (and new versions) submitted by this institute's staff");
        _sent = Meter.CreateCounter<long>("exchange.disclosures.sent", "{disclosure}", "Disclosures the broker confirmed it holds for a peer");
        _acknowledged = Meter.CreateCounter<long>("exchange.disclosures.acknowledged", "{disclosure}", "Disclosures a peer acknowledged with a signed receipt");
        _refused = Meter.CreateCounter<long>("exchange.disclosures.refused", "{disclosure}",
            "Disclosures refused: by this node's policy before sending (refused_by=policy), by the peer that received one (peer), or by this node receiving one (self)");
        _received = Meter.CreateCounter<long>("exchange.findings.received", "{finding}", "Findings received from peers and accepted");
        _rejected = Meter.CreateCounter<long>("exchange.envelopes.rejected", "{envelope}", "Envelopes that failed verification (forged, tampered, misaddressed, unreadable)");
        Meter.CreateObservableGauge("exchange.outbox.depth", () => Sampled(_outboxDepth), "{message}", "Messages in the outbox not yet confirmed by the broker");
        Meter.CreateObservableGauge("exchange.disclosures.unanswered", () => Sampled(_unanswered), "{message}",
            "Findings and withdrawals still without a receipt past the deadline (Broker:ReceiptTimeout after their first send)");
        Meter.CreateObservableGauge("exchange.audit.size", () => Sampled(_auditSize), "{entry}", "Entries in this node's audit log (the Merkle tree's size)");
    }

    public Meter Meter { get; }

    /// <summary>Counts one committed audit event.</summary>
    public void Committed(AuditEvent audit)
    {
        var peer = new KeyValuePair<string, object?>("exchange.peer", audit.Counterparty);
        switch (audit.Kind)
        {
            case AuditEventKind.FindingSubmitted:
                _submitted.Add(1, new KeyValuePair<string, object?>("exchange.label", audit.Label.ToString()));
                break;
            case AuditEventKind.DisclosureSent:
                _sent.Add(1, peer);
                break;
            case AuditEventKind.DisclosureAcknowledged:
                _acknowledged.Add(1, peer);
                break;
            case AuditEventKind.DisclosureDecided when audit.Outcome == DisclosureOutcome.Deny:
                _refused.Add(1, peer, new("exchange.refused_by", "policy"));
                break;
            case AuditEventKind.DisclosureRefusedByPeer:
                _refused.Add(1, peer, new("exchange.refused_by", "peer"));
                break;
            case AuditEventKind.DisclosureRefused:
                _refused.Add(1, peer, new("exchange.refused_by", "self"));
                break;
            case AuditEventKind.FindingReceived:
                _received.Add(1, peer);
                break;
            case AuditEventKind.EnvelopeRejected:
                _rejected.Add(1);
                break;
        }
    }

    public void Sample(long outboxDepth, long auditSize, long unanswered)
    {
        Interlocked.Exchange(ref _outboxDepth, outboxDepth);
        Interlocked.Exchange(ref _auditSize, auditSize);
        Interlocked.Exchange(ref _unanswered, unanswered);
    }

    // Nothing is reported before the first sample rather than a misleading zero.
    private static IEnumerable<Measurement<long>> Sampled(long value) => value < 0 ? [] : [new Measurement<long>(value)];
}

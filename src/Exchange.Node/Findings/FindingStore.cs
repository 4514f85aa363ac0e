using System.Security.Cryptography;
using Exchange.Domain.Policy;
using Exchange.Node.Audit;
using Exchange.Node.Disclosure;
using Exchange.Node.Api;
using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Findings;

public sealed record SubmitResult(Finding Finding, IReadOnlyList<V1.DisclosureDecision> Decisions, bool Replayed);

/// <summary>
/// Keeps findings: one transaction per change holds the finding, its decisions and its audit events,
/// so none exists without the others.
/// </summary>
public sealed class FindingStore(
    NodeDbContext db,
    FindingProtector protector,
    DisclosurePolicy policy,
    DisclosureWriter disclosures,
    OutboxSignal outbox,
    AuditRecorder audit,
    TimeProvider time,
    IOptions<NodeOptions> node)
{
    private string Self => node.Value.InstituteId;

    public async Task<SubmitResult> SubmitAsync(SubmitFindingRequest request, string clientId, CancellationToken cancellationToken)
    {
        var requestId = request.RequestId;
        var requestHash = requestId.Length > 0 ? SHA256.HashData(request.ToByteArray()) : null;
        if (requestHash is not null && await ReplayAsync(clientId, requestId, requestHash, cancellationToken) is { } replay)
        {
            return replay;
        }

        var now = time.GetUtcNow();
        var (id, version) = (request.SupersedesFindingId, 1);
        FindingRecord? previous = null;
        if (id.Length > 0)
        {
            previous = await CurrentAsync(id, cancellationToken);
            if (previous is null)
            {
                GrpcErrors.NotFound($"supersedes_finding_id: no finding '{id}' on this node");
            }
            if (previous.OriginInstitute != Self)
            {
                GrpcErrors.FailedPrecondition($"supersedes_finding_id: '{id}' came from {previous.OriginInstitute}; only its origin can publish a new version");
            }
            if (previous.State == (int)FindingState.Withdrawn)
            {
                GrpcErrors.FailedPrecondition($"supersedes_finding_id: '{id}' is withdrawn and cannot be superseded");
            }
            version = previous.Version + 1;
            previous.IsCurrent = false;
            previous.State = (int)FindingState.Superseded;
        }
        else
        {
            id = $"{Self}-{Guid.CreateVersion7(now):N}";
        }

        var finding = new Finding
        {
            Id = id,
            OriginInstitute = Self,
            Version = version,
            Content = request.Content,
            Label = request.Label,
            Policy = Normalize(request.Policy ?? new AccessPolicy(), request.Label.Level),
            State = FindingState.Active,
            SubmittedBy = clientId,
            SubmittedAt = Timestamp.FromDateTimeOffset(now),
        };
        var decisions = policy.Decide(DisclosureSubject.From(finding), now);
        db.Findings.Add(finding.ToRecord(protector.Protect(finding, out var contentHash), requestId, requestHash));
        RecordSubmission(finding, previous, contentHash, clientId);
        if (previous is not null)
        {
            await disclosures.SupersedeAsync(id, previous.Version, decisions, clientId, now, cancellationToken);
        }
        disclosures.Decide(finding, decisions, clientId, now);

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (requestHash is not null)
        {
            // Two attempts with one request id raced and the other won: answer with its finding.
            db.ChangeTracker.Clear();
            return await ReplayAsync(clientId, requestId, requestHash, cancellationToken) ?? throw new InvalidOperationException("Submit failed and no earlier attempt exists.");
        }
        outbox.Notify();
        return new SubmitResult(finding, decisions.Select(d => d.ToProto(d.InitialDelivery())).ToArray(), Replayed: false);
    }

    public IReadOnlyList<PolicyDecision> Preview(PreviewDisclosureRequest request) =>
        policy.Decide(DisclosureSubject.From(Self, request.Label, Normalize(request.Policy ?? new AccessPolicy(), request.Label?.Level ?? TlpLevel.Unspecified), request.Content), time.GetUtcNow());

    /// <summary>A stored version (the current one for <paramref name="version"/> 0), or null; nothing is unsealed here.</summary>
    public Task<FindingRecord?> GetAsync(string id, int version, CancellationToken cancellationToken) =>
        version > 0
            ? db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.Version == version, cancellationToken)
            : db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.IsCurrent, cancellationToken);

    public async Task<IReadOnlyList<V1.DisclosureDecision>> DecisionsAsync(string id, int version, CancellationToken cancellationToken) =>
        (await db.Decisions.AsNoTracking()
            .Where(d => d.FindingId == id && d.FindingVersion == version)
            .OrderBy(d => d.Id)
            .ToListAsync(cancellationToken))
        .Select(d => d.ToProto()).ToArray();

    /// <summary>
    /// One page of current versions, newest first, among those whose label is in
    /// <paramref name="readableLabels"/> (what the access rule lets the caller read) and that are
    /// not held here: the rows, still sealed, and the sequence number to continue after.
    /// </summary>
    public async Task<(IReadOnlyList<FindingRecord> Page, long? LastSeq)> ListAsync(ListFindingsRequest request, long? afterSeq, int pageSize, IReadOnlyCollection<TlpLevel> readableLabels, CancellationToken cancellationToken)
    {
        var readable = readableLabels.Select(l => (int)l).ToArray();
        var query = db.Findings.AsNoTracking().Where(f => f.IsCurrent && f.HeldUntil == null && readable.Contains(f.Label));
        if (afterSeq is { } after)
        {
            query = query.Where(f => f.Seq < after);
        }
        if (!request.IncludeWithdrawn)
        {
            query = query.Where(f => f.State != (int)FindingState.Withdrawn);
        }
        if (request.Labels.Count > 0)
        {
            var labels = request.Labels.Select(l => (int)l).ToArray();
            query = query.Where(f => labels.Contains(f.Label));
        }
        if (request.RiskDomains.Count > 0)
        {
            var domains = request.RiskDomains.Select(d => (int)d).ToArray();
            query = query.Where(f => domains.Contains(f.RiskDomain));
        }
        if (request.Model.Length > 0)
        {
            var model = ColumnText.Fit(request.Model.ToLowerInvariant());
            query = query.Where(f => f.ModelName == model || f.ModelDeveloper == model);
        }
        if (request.OriginInstitute.Length > 0)
        {
            query = query.Where(f => f.OriginInstitute == request.OriginInstitute);
        }
        if (request.SubmittedAfter is { } from)
        {
            var fromTime = from.ToDateTimeOffset();
            query = query.Where(f => f.SubmittedAt >= fromTime);
        }
        if (request.SubmittedBefore is { } to)
        {
            var toTime = to.ToDateTimeOffset();
            query = query.Where(f => f.SubmittedAt < toTime);
        }
        if (request.ReceivedAfter is { } receivedFrom)
        {
            var fromTime = receivedFrom.ToDateTimeOffset();
            query = query.Where(f => f.AvailableAt >= fromTime);
        }
        if (request.ReceivedBefore is { } receivedTo)
        {
            var toTime = receivedTo.ToDateTimeOffset();
            query = query.Where(f => f.AvailableAt < toTime);
        }
        var rows = await query.OrderByDescending(f => f.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
        return (rows.Take(pageSize).ToArray(), rows.Count > pageSize ? rows[pageSize - 1].Seq : null);
    }

    /// <summary>
    /// Withdraws one of this institute's findings (every version) and tells whoever holds a version.
    /// Withdrawing it again changes nothing. Returns the withdrawn current version's row.
    /// </summary>
    public async Task<FindingRecord> WithdrawAsync(string id, string reason, string clientId, CancellationToken cancellationToken)
    {
        var record = await CurrentAsync(id, cancellationToken);
        if (record is null)
        {
            GrpcErrors.NotFound($"id: no finding '{id}' on this node");
        }
        if (record.OriginInstitute != Self)
        {
            GrpcErrors.FailedPrecondition($"id: '{id}' came from {record.OriginInstitute}; only its origin can withdraw it");
        }
        if (record.State == (int)FindingState.Withdrawn)
        {
            return record;
        }
        var now = time.GetUtcNow();
        record.State = (int)FindingState.Withdrawn;
        record.WithdrawnAt = now;
        // The reason is the origin's free text about the finding: sealed with it, never in a clear column.
        record.ProtectedWithdrawalReason = protector.ProtectReason(reason);
        audit.Record(AuditEvents.Withdrawn(clientId, id, record.Version, (TlpLevel)record.Label));
        await disclosures.WithdrawAsync(record, reason, clientId, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Notify();
        return record;
    }

    private Task<FindingRecord?> CurrentAsync(string id, CancellationToken cancellationToken) =>
        db.Findings.SingleOrDefaultAsync(f => f.Id == id && f.IsCurrent, cancellationToken);

    private async Task<SubmitResult?> ReplayAsync(string clientId, string requestId, byte[] requestHash, CancellationToken cancellationToken)
    {
        var existing = await db.Findings.AsNoTracking()
            .SingleOrDefaultAsync(f => f.SubmittedBy == clientId && f.RequestId == requestId, cancellationToken);
        if (existing is null)
        {
            return null;
        }
        if (existing.RequestHash is null || !CryptographicOperations.FixedTimeEquals(existing.RequestHash, requestHash))
        {
            GrpcErrors.AlreadyExists($"request_id '{requestId}' was already used for a different submission (finding {existing.Id}); use a new request id");
        }
        var decisions = await DecisionsAsync(existing.Id, existing.Version, cancellationToken);
        // The echo of what the caller sent, no more: a withdrawal since (perhaps by someone else, for
        // reasons the caller may not read) shows as the state alone.
        var echo = existing.ToFinding(protector);
        echo.WithdrawalReason = "";
        return new SubmitResult(echo, decisions, Replayed: true);
    }

    private void RecordSubmission(Finding finding, FindingRecord? previous, byte[] contentHash, string clientId)
    {
        if (previous is not null)
        {
            audit.Record(new AuditEvent
            {
                Kind = AuditEventKind.FindingSuperseded,
                Actor = clientId,
                FindingId = previous.Id,
                FindingVersion = previous.Version,
                Label = (TlpLevel)previous.Label,
                Detail = $"superseded by version {finding.Version}",
            });
        }
        audit.Record(new AuditEvent
        {
            Kind = AuditEventKind.FindingSubmitted,
            Actor = clientId,
            FindingId = finding.Id,
            FindingVersion = finding.Version,
            Label = finding.Label.Level,
            ContentHash = ByteString.CopyFrom(contentHash),
        });
    }

    // AMBER+STRICT and RED never travel beyond their recipient, whatever was ticked.
    private static AccessPolicy Normalize(AccessPolicy policy, TlpLevel level)
    {
        if (level < TlpLevel.AmberStrict || policy.NoRedistribution)
        {
            return policy;
        }
        var normalized = policy.Clone();
        normalized.NoRedistribution = true;
        return normalized;
    }
}

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
            await disclosures.SupersedeAsync(id, previous.Version, (TlpLevel)previous.Label, decisions, clientId, now, cancellationToken);
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

    public async Task<(FindingRecord Record, Finding Finding)?> GetAsync(string id, int version, CancellationToken cancellationToken)
    {
        var record = version > 0
            ? await db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.Version == version, cancellationToken)
            : await db.Findings.AsNoTracking().SingleOrDefaultAsync(f => f.Id == id && f.IsCurrent, cancellationToken);
        return record is null ? null : (record, record.ToFinding(protector));
    }

    public async Task<IReadOnlyList<V1.DisclosureDecision>> DecisionsAsync(string id, int version, CancellationToken cancellationToken) =>
        (await db.Decisions.AsNoTracking()
            .Where(d => d.FindingId == id && d.FindingVersion == version)
            .OrderBy(d => d.Id)
            .ToListAsync(cancellationToken))
        .Select(d => d.ToProto()).ToArray();

    public async Task<(IReadOnlyList<FindingSummary> Page, long? LastSeq)> ListAsync(ListFindingsRequest request, long? afterSeq, int pageSize, bool mayReadRed, CancellationToken cancellationToken)
    {
        var query = db.Findings.AsNoTracking().Where(f => f.IsCurrent);
        if (afterSeq is { } after)
        {
            query = query.Where(f => f.Seq < after);
        }
        if (!request.IncludeWithdrawn)
        {
            query = query.Where(f => f.State != (int)FindingState.Withdrawn);
        }
        if (!mayReadRed)
        {
            query = query.Where(f => f.Label != (int)TlpLevel.Red);
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
        var rows = await query.OrderByDescending(f => f.Seq).Take(pageSize + 1).ToListAsync(cancellationToken);
        var page = rows.Take(pageSize).Select(r => r.ToFinding(protector).ToSummary()).ToArray();
        return (page, rows.Count > pageSize ? rows[pageSize - 1].Seq : null);
    }

    public async Task<Finding> WithdrawAsync(string id, string reason, string clientId, CancellationToken cancellationToken)
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
            return record.ToFinding(protector);
        }
        var now = time.GetUtcNow();
        record.State = (int)FindingState.Withdrawn;
        record.WithdrawnAt = now;
        record.WithdrawalReason = reason;
        var finding = record.ToFinding(protector);
        audit.Record(new AuditEvent
        {
            Kind = AuditEventKind.FindingWithdrawn,
            Actor = clientId,
            FindingId = id,
            FindingVersion = record.Version,
            Label = finding.Label.Level,
            Detail = reason,
        });
        await disclosures.WithdrawAsync(record, reason, clientId, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        outbox.Notify();
        return finding;
    }

    public Task RecordReadAsync(Finding finding, string clientId, CancellationToken cancellationToken) =>
        audit.RecordNowAsync(new AuditEvent
        {
            Kind = AuditEventKind.FindingRead,
            Actor = clientId,
            FindingId = finding.Id,
            FindingVersion = finding.Version,
            Label = finding.Label.Level,
            Counterparty = finding.OriginInstitute == Self ? "" : finding.OriginInstitute,
        }, cancellationToken);

    public Task RecordAccessDeniedAsync(Finding finding, string clientId, string why, CancellationToken cancellationToken) =>
        audit.RecordNowAsync(new AuditEvent
        {
            Kind = AuditEventKind.AccessDenied,
            Actor = clientId,
            FindingId = finding.Id,
            FindingVersion = finding.Version,
            Label = finding.Label.Level,
            Detail = why,
        }, cancellationToken);

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
        return new SubmitResult(existing.ToFinding(protector), decisions, Replayed: true);
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

using Exchange.Domain.Access;
using Exchange.Node.Api;
using Exchange.Node.Audit;
using Exchange.Node.Findings;
using Exchange.Node.Persistence;
using Exchange.V1;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Access;

/// <summary>
/// Where the node's one access rule (<see cref="FindingAccessRule"/>) meets stored findings: every
/// read of a finding's content by a caller (a read by id, a list, the subscription feed) unseals it
/// here, and only here, after the rule said yes; each read of AMBER and above is committed to the
/// audit log before this returns, so before the content can leave the node.
/// </summary>
public sealed class FindingGate(NodeDbContext db, FindingProtector protector, AuditRecorder audit, IOptions<NodeOptions> node)
{
    /// <summary>What the rule gives <paramref name="caller"/> of this stored version.</summary>
    public static FindingAccess Access(Caller caller, FindingRecord record) =>
        FindingAccessRule.Decide(caller.Scopes, (TlpLevel)record.Label, record.HeldUntil is not null);

    /// <summary>
    /// One version asked for by id. A held version answers NOT_FOUND (as if it were not here); a
    /// version the caller may not read answers PERMISSION_DENIED naming what is missing, and the
    /// refusal is audited.
    /// </summary>
    /// <param name="notFound">What a caller asking for something absent is told, so that a held version is told the same.</param>
    /// <exception cref="Grpc.Core.RpcException">NOT_FOUND or PERMISSION_DENIED, as above.</exception>
    public async Task<Finding> ReadAsync(Caller caller, FindingRecord record, string via, string notFound, CancellationToken cancellationToken)
    {
        var access = Access(caller, record);
        if (record.HeldUntil is not null)
        {
            GrpcErrors.NotFound(notFound);
        }
        if (!access.MayReadContent)
        {
            audit.Record(AuditEvents.AccessDenied(record, caller.ClientId, access.Missing!, via));
            await db.SaveChangesAsync(cancellationToken);
            GrpcErrors.PermissionDenied(access.Missing!);
        }
        return (await ReadAsync(caller, [record], via, cancellationToken))[0]!;
    }

    /// <summary>
    /// Many versions at once (a page of a list or of the feed): the content of each the rule lets
    /// the caller read, null for the others. The reads are recorded, one audit entry per version of
    /// AMBER and above with <paramref name="via"/> as its detail, and committed before this returns.
    /// </summary>
    public async Task<IReadOnlyList<Finding?>> ReadAsync(Caller caller, IReadOnlyList<FindingRecord> records, string via, CancellationToken cancellationToken)
    {
        var shown = new Finding?[records.Count];
        var reads = 0;
        for (var i = 0; i < records.Count; i++)
        {
            var access = Access(caller, records[i]);
            if (!access.MayReadContent)
            {
                continue;
            }
            shown[i] = records[i].ToFinding(protector);
            if (access.Audited)
            {
                audit.Record(AuditEvents.Read(records[i], caller.ClientId, via, node.Value.InstituteId));
                reads++;
            }
        }
        if (reads > 0)
        {
            // On the record before the content leaves: the caller sends only after this returns.
            await db.SaveChangesAsync(cancellationToken);
        }
        return shown;
    }
}

using Exchange.Domain;
using Exchange.Node.Api;
using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Audit;

[Authorize(Scopes.AuditRead)]
internal sealed class AuditGrpcService(NodeDbContext db, AuditLog log) : AuditService.AuditServiceBase
{
    private const int ExportBatch = 1000;

    public override async Task<QueryAuditResponse> Query(QueryAuditRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > 1000)
        {
            GrpcErrors.InvalidArgument("page_size", "must be between 0 and 1000");
        }
        long after = -1;
        if (request.PageToken.Length > 0 && !long.TryParse(request.PageToken, out after))
        {
            GrpcErrors.InvalidArgument("page_token", "is not a token this node issued");
        }
        var query = db.AuditEvents.AsNoTracking().Where(e => e.LeafIndex != null && e.LeafIndex > after);
        if (request.FindingId.Length > 0)
        {
            query = query.Where(e => e.FindingId == request.FindingId);
        }
        if (request.Institute.Length > 0)
        {
            query = query.Where(e => e.Counterparty == request.Institute);
        }
        if (request.Kinds.Count > 0)
        {
            var kinds = request.Kinds.Select(k => k.ToString()).ToList();
            query = query.Where(e => kinds.Contains(e.Kind));
        }
        if (request.From is { } from)
        {
            var fromTime = from.ToDateTimeOffset();
            query = query.Where(e => e.OccurredAt >= fromTime);
        }
        if (request.To is { } to)
        {
            var toTime = to.ToDateTimeOffset();
            query = query.Where(e => e.OccurredAt < toTime);
        }
        var size = request.PageSize == 0 ? 100 : request.PageSize;
        var rows = await query.OrderBy(e => e.LeafIndex).Take(size + 1).ToListAsync(context.CancellationToken);
        var response = new QueryAuditResponse
        {
            Records = { rows.Take(size).Select(Record) },
            NextPageToken = rows.Count > size ? rows[size - 1].LeafIndex!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "",
            Pending = (ulong)await db.AuditEvents.CountAsync(e => e.LeafIndex == null, context.CancellationToken),
        };
        return response;
    }

    public override async Task<GetCheckpointResponse> GetCheckpoint(GetCheckpointRequest request, ServerCallContext context)
    {
        var checkpoint = request.Size > 0
            ? await db.AuditCheckpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Size == (long)request.Size, context.CancellationToken)
            : request.Fresh ? await FreshAsync(context.CancellationToken) : await log.LatestCheckpointAsync(context.CancellationToken);
        if (checkpoint is null)
        {
            GrpcErrors.NotFound(request.Size > 0 ? $"no checkpoint of size {request.Size}" : "no checkpoint has been signed yet; ask with fresh=true");
        }
        var (note, witnesses) = await log.CosignedNoteAsync(checkpoint, context.CancellationToken);
        return new GetCheckpointResponse
        {
            Note = note,
            Size = (ulong)checkpoint.Size,
            RootHash = ByteString.CopyFrom(checkpoint.RootHash),
            Origin = log.Origin,
            CosignedBy = { witnesses },
        };
    }

    public override async Task<GetInclusionProofResponse> GetInclusionProof(GetInclusionProofRequest request, ServerCallContext context)
    {
        var size = await SizeAsync(request.TreeSize, "tree_size", context.CancellationToken);
        if (request.Index >= (ulong)size)
        {
            GrpcErrors.InvalidArgument("index", $"entry {request.Index} is not in a tree of size {size}");
        }
        var (leaf, proof, root) = await log.InclusionProofAsync((long)request.Index, size, context.CancellationToken);
        var record = await db.AuditEvents.AsNoTracking().SingleAsync(e => e.LeafIndex == (long)request.Index, context.CancellationToken);
        return new GetInclusionProofResponse
        {
            Index = request.Index,
            TreeSize = (ulong)size,
            LeafHash = ByteString.CopyFrom(leaf),
            Proof = { proof.Select(ByteString.CopyFrom) },
            RootHash = ByteString.CopyFrom(root),
            Record = Record(record),
        };
    }

    public override async Task<GetConsistencyProofResponse> GetConsistencyProof(GetConsistencyProofRequest request, ServerCallContext context)
    {
        var second = await SizeAsync(request.SecondSize, "second_size", context.CancellationToken);
        if (request.FirstSize == 0 || request.FirstSize > (ulong)second)
        {
            GrpcErrors.InvalidArgument("first_size", $"must be between 1 and {second}");
        }
        var (proof, firstRoot, secondRoot) = await log.ConsistencyProofAsync((long)request.FirstSize, second, context.CancellationToken);
        return new GetConsistencyProofResponse
        {
            FirstSize = request.FirstSize,
            SecondSize = (ulong)second,
            Proof = { proof.Select(ByteString.CopyFrom) },
            FirstRoot = ByteString.CopyFrom(firstRoot),
            SecondRoot = ByteString.CopyFrom(secondRoot),
        };
    }

    public override async Task Export(ExportAuditRequest request, IServerStreamWriter<ExportAuditResponse> responseStream, ServerCallContext context)
    {
        var next = (long)request.StartIndex;
        while (true)
        {
            var rows = await db.AuditEvents.AsNoTracking()
                .Where(e => e.LeafIndex != null && e.LeafIndex >= next)
                .OrderBy(e => e.LeafIndex)
                .Take(ExportBatch)
                .ToListAsync(context.CancellationToken);
            if (rows.Count == 0)
            {
                break;
            }
            await responseStream.WriteAsync(new ExportAuditResponse { Records = { rows.Select(Record) } });
            next = rows[^1].LeafIndex!.Value + 1;
        }
        var checkpoints = await db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.Size).ToListAsync(context.CancellationToken);
        var last = new ExportAuditResponse { Origin = log.Origin };
        foreach (var checkpoint in checkpoints)
        {
            last.Checkpoints.Add((await log.CosignedNoteAsync(checkpoint, context.CancellationToken)).Note);
        }
        await responseStream.WriteAsync(last);
    }

    private async Task<AuditCheckpointRecord?> FreshAsync(CancellationToken cancellationToken)
    {
        while (await log.IntegrateAsync(cancellationToken) > 0)
        {
        }
        return await log.SignCheckpointAsync(cancellationToken);
    }

    private async Task<long> SizeAsync(ulong requested, string field, CancellationToken cancellationToken)
    {
        if (requested > 0)
        {
            var (current, _) = await log.HeadAsync(cancellationToken);
            if (requested > (ulong)current)
            {
                GrpcErrors.InvalidArgument(field, $"the log has {current} entries");
            }
            return (long)requested;
        }
        var latest = await log.LatestCheckpointAsync(cancellationToken) ?? await FreshAsync(cancellationToken);
        if (latest is null)
        {
            GrpcErrors.FailedPrecondition("the log is empty");
        }
        return latest.Size;
    }

    private static AuditRecord Record(AuditEventRecord row) => new()
    {
        Index = (ulong)row.LeafIndex!.Value,
        EntryBytes = ByteString.CopyFrom(row.Entry),
        Entry = AuditEntry.Parser.ParseFrom(row.Entry),
    };
}

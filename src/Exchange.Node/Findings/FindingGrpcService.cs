using Exchange.Domain;
using Exchange.Domain.Findings;
using Exchange.Domain.Network;
using Exchange.Node.Disclosure;
using Exchange.Node.Api;
using Exchange.Node.Identity;
using Exchange.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Exchange.Node.Findings;

internal sealed class FindingGrpcService(FindingStore store, NetworkManifest manifest, FindingLimits limits) : FindingService.FindingServiceBase
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 500;

    [Authorize(Scopes.FindingsSubmit)]
    public override async Task<SubmitFindingResponse> SubmitFinding(SubmitFindingRequest request, ServerCallContext context)
    {
        var violations = new SubmissionValidator(limits, manifest).Validate(request);
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the finding is not valid", violations);
        }
        var result = await store.SubmitAsync(request, context.ClientId(), context.CancellationToken);
        return new SubmitFindingResponse { Finding = result.Finding, Decisions = { result.Decisions }, Replayed = result.Replayed };
    }

    [Authorize(Scopes.FindingsRead)]
    public override async Task<GetFindingResponse> GetFinding(GetFindingRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Id))
        {
            GrpcErrors.InvalidArgument("id", "is required");
        }
        var found = await store.GetAsync(request.Id, request.Version, context.CancellationToken);
        if (found is null)
        {
            GrpcErrors.NotFound($"no finding '{request.Id}'{(request.Version > 0 ? $" version {request.Version}" : "")} on this node");
        }
        var f = found.Value;
        var clientId = context.ClientId();
        if (f.Finding.Label.Level == TlpLevel.Red && !context.HasScope(Scopes.FindingsReadRed))
        {
            const string why = "reading a RED finding needs the scope findings:read:red";
            await store.RecordAccessDeniedAsync(f.Finding, clientId, why, context.CancellationToken);
            GrpcErrors.PermissionDenied(why);
        }
        if (f.Finding.Label.Level.IsClassified())
        {
            // The read is on the record before the content leaves the node.
            await store.RecordReadAsync(f.Finding, clientId, context.CancellationToken);
        }
        // Decisions exist only where the finding originated; a received finding has none.
        return new GetFindingResponse
        {
            Finding = f.Finding,
            Decisions = { await store.DecisionsAsync(f.Record.Id, f.Record.Version, context.CancellationToken) },
        };
    }

    [Authorize(Scopes.FindingsRead)]
    public override async Task<ListFindingsResponse> ListFindings(ListFindingsRequest request, ServerCallContext context)
    {
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            GrpcErrors.InvalidArgument("page_size", $"must be between 0 and {MaxPageSize}");
        }
        long? after = null;
        if (request.PageToken.Length > 0)
        {
            if (!PageToken.TryDecode(request.PageToken, out var seq))
            {
                GrpcErrors.InvalidArgument("page_token", "is not a token this node issued");
            }
            after = seq;
        }
        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var (page, last) = await store.ListAsync(request, after, pageSize, context.HasScope(Scopes.FindingsReadRed), context.CancellationToken);
        return new ListFindingsResponse
        {
            Findings = { page },
            NextPageToken = last is { } l ? PageToken.Encode(l) : "",
        };
    }

    [Authorize(Scopes.FindingsSubmit)]
    public override async Task<WithdrawFindingResponse> WithdrawFinding(WithdrawFindingRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        if (string.IsNullOrWhiteSpace(request.Id))
        {
            violations.Add(new("id", "is required"));
        }
        if (request.Reason.Length > 1000)
        {
            violations.Add(new("reason", $"is {request.Reason.Length} characters; the limit is 1000"));
        }
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the withdrawal is not valid", violations);
        }
        var finding = await store.WithdrawAsync(request.Id, request.Reason, context.ClientId(), context.CancellationToken);
        return new WithdrawFindingResponse { Finding = finding };
    }

    [Authorize(Scopes.FindingsSubmit)]
    public override Task<PreviewDisclosureResponse> PreviewDisclosure(PreviewDisclosureRequest request, ServerCallContext context)
    {
        var violations = new SubmissionValidator(limits, manifest).Validate(request);
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the finding is not valid", violations);
        }
        var decisions = store.Preview(request);
        return Task.FromResult(new PreviewDisclosureResponse { Decisions = { decisions.Select(d => d.ToProto()) } });
    }
}

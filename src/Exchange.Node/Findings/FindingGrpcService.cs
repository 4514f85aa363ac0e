using Exchange.Domain;
using Exchange.Domain.Access;
using Exchange.Domain.Findings;
using Exchange.Domain.Network;
using Exchange.Inspect;
using Exchange.Node.Disclosure;
using Exchange.Node.Access;
using Exchange.Node.Api;
using Exchange.Node.Identity;
using Exchange.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;

namespace Exchange.Node.Findings;

internal sealed class FindingGrpcService(FindingStore store, FindingGate gate, NetworkManifest manifest, FindingLimits limits, InspectUploads uploads) : FindingService.FindingServiceBase
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
        var notFound = $"no finding '{request.Id}'{(request.Version > 0 ? $" version {request.Version}" : "")} on this node";
        var record = await store.GetAsync(request.Id, request.Version, context.CancellationToken);
        if (record is null)
        {
            GrpcErrors.NotFound(notFound);
        }
        var finding = await gate.ReadAsync(Caller.From(context), record, "get", notFound, context.CancellationToken);
        // Decisions exist only where the finding originated; a received finding has none.
        return new GetFindingResponse
        {
            Finding = finding,
            Decisions = { await store.DecisionsAsync(record.Id, record.Version, context.CancellationToken) },
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
        var caller = Caller.From(context);
        // The rule, asked label by label, says what this caller may list; the query leaves out the rest.
        var readable = Enum.GetValues<TlpLevel>().Where(l => FindingAccessRule.Decide(caller.Scopes, l, held: false).MayReadContent).ToArray();
        var (page, last) = await store.ListAsync(request, after, pageSize, readable, context.CancellationToken);
        var shown = await gate.ReadAsync(caller, page, "list", context.CancellationToken);
        return new ListFindingsResponse
        {
            Findings = { shown.OfType<Finding>().Select(f => f.ToSummary()) },
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
        if (request.Reason.Contains('\0'))
        {
            // Kept in a clear column (recipients and listings show it), which cannot hold NUL.
            violations.Add(new("reason", "contains a NUL character"));
        }
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the withdrawal is not valid", violations);
        }
        // The answer says what changed and nothing of the content: withdrawing needs findings:submit
        // alone, which does not let the caller read the finding.
        var withdrawn = await store.WithdrawAsync(request.Id, request.Reason, context.ClientId(), context.CancellationToken);
        return new WithdrawFindingResponse { Id = withdrawn.Id, Version = withdrawn.Version, State = (FindingState)withdrawn.State };
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

    [Authorize(Scopes.FindingsSubmit)]
    public override async Task<ImportInspectLogResponse> ImportInspectLog(IAsyncStreamReader<ImportInspectLogRequest> requestStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        if (!await requestStream.MoveNext(cancellationToken) || requestStream.Current.PartCase != ImportInspectLogRequest.PartOneofCase.Options)
        {
            GrpcErrors.InvalidArgument("options", "must be the first message of the upload");
        }
        var options = requestStream.Current.Options;
        // Refuse before the upload what no file can fix, so a 500 MB log is not sent for nothing.
        var early = OptionViolations(options, manifest);
        if (early.Count > 0)
        {
            GrpcErrors.InvalidArgument("the import options are not valid", early);
        }

        await using var upload = await uploads.ReceiveAsync(requestStream, cancellationToken);
        SubmitFindingRequest request;
        IReadOnlyList<string> notes;
        try
        {
            // Parsing is synchronous and reads the whole file; keep it off the request thread.
            var run = await Task.Run(() => InspectLogReader.Read(upload.File, cancellationToken: cancellationToken), cancellationToken);
            request = InspectImport.ToFinding(run, Settings(options, upload, manifest), out notes);
        }
        catch (InspectFormatException e)
        {
            GrpcErrors.InvalidArgument("the file is not a readable Inspect log", [new FieldViolation("chunk", e.Message)]);
            throw;
        }
        catch (IncompleteRunException e)
        {
            GrpcErrors.FailedPrecondition($"{e.Message} (options.allow_incomplete)");
            throw;
        }
        request.RequestId = options.RequestId;

        var violations = new SubmissionValidator(limits, manifest).Validate(request);
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the finding mapped from the log is not valid", violations.Select(v => v with { Field = OptionField(v.Field) }).ToArray());
        }
        var response = new ImportInspectLogResponse { Finding = request, Notes = { notes } };
        if (options.DryRun)
        {
            var preview = store.Preview(new PreviewDisclosureRequest { Content = request.Content, Label = request.Label, Policy = request.Policy });
            response.Preview.AddRange(preview.Select(d => d.ToProto()));
            return response;
        }
        var result = await store.SubmitAsync(request, context.ClientId(), cancellationToken);
        response.Submitted = new SubmitFindingResponse { Finding = result.Finding, Decisions = { result.Decisions }, Replayed = result.Replayed };
        return response;
    }

    private static List<FieldViolation> OptionViolations(InspectImportOptions options, NetworkManifest manifest)
    {
        var violations = new List<FieldViolation>();
        for (var i = 0; i < options.Recipients.Count; i++)
        {
            var name = options.Recipients[i];
            if (!manifest.GroupsById.ContainsKey(name) && !manifest.InstitutesById.ContainsKey(name))
            {
                violations.Add(new($"options.recipients[{i}]", $"'{name}' is neither an institute nor a group in the network manifest (groups: {string.Join(", ", manifest.Groups.Select(g => g.Id))})"));
            }
        }
        if (options.Label is null || options.Label.Level == TlpLevel.Unspecified)
        {
            violations.Add(new("options.label.level", "is required (CLEAR, GREEN, AMBER, AMBER+STRICT or RED)"));
        }
        if (options.RiskDomain == RiskDomain.Unspecified)
        {
            violations.Add(new("options.risk_domain", "is required: the log does not say which risk the evaluation measures"));
        }
        if (options.FileName.Length > 200)
        {
            violations.Add(new("options.file_name", $"is {options.FileName.Length} characters; the limit is 200"));
        }
        return violations;
    }

    private static ImportSettings Settings(InspectImportOptions options, SpooledUpload upload, NetworkManifest manifest) => new()
    {
        Label = options.Label,
        Policy = Audience(options, manifest),
        RiskDomain = options.RiskDomain,
        Method = options.Method == EvaluationMethod.Unspecified ? EvaluationMethod.AutomatedCapability : options.Method,
        Stage = options.Stage == ModelStage.Unspecified ? ModelStage.Deployed : options.Stage,
        Severity = options.Severity == Severity.Unspecified ? Severity.Informational : options.Severity,
        Title = options.Title.Length > 0 ? options.Title : null,
        Developer = options.Developer.Length > 0 ? options.Developer : null,
        AllowIncomplete = options.AllowIncomplete,
        FileName = Path.GetFileName(options.FileName),
        FileSha256 = upload.Sha256,
        FileSize = upload.Size,
    };

    private static AccessPolicy Audience(InspectImportOptions options, NetworkManifest manifest)
    {
        var policy = options.Policy?.Clone() ?? new AccessPolicy();
        foreach (var name in options.Recipients)
        {
            var into = manifest.GroupsById.ContainsKey(name) ? policy.RecipientGroups : policy.RecipientInstitutes;
            if (!into.Contains(name))
            {
                into.Add(name);
            }
        }
        return policy;
    }

    // The caller set the label and policy in the options; the content came from the log.
    private static string OptionField(string field) =>
        field.StartsWith("label", StringComparison.Ordinal) || field.StartsWith("policy", StringComparison.Ordinal) || field == "request_id"
            ? $"options.{field}"
            : field;
}

using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>FindingService through the real gRPC pipeline, with real tokens, on each database.</summary>
public abstract class FindingServiceTests(NodeFixture fixture)
{
    private FindingService.FindingServiceClient Findings => fixture.Findings;

    [Fact]
    public async Task A_submitted_finding_reads_back_as_it_was_written()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(TlpLevel.Amber, institutes: ["us", "jp"]);

        var submitted = await Findings.SubmitFindingAsync(request, auth);
        var read = await Findings.GetFindingAsync(new GetFindingRequest { Id = submitted.Finding.Id }, auth);

        Assert.StartsWith("uk-", submitted.Finding.Id);
        Assert.Equal(1, submitted.Finding.Version);
        Assert.Equal("uk", read.Finding.OriginInstitute);
        Assert.Equal(TestClients.Submitter, read.Finding.SubmittedBy);
        Assert.Equal(FindingState.Active, read.Finding.State);
        Assert.Equal(request.Content, read.Finding.Content);
        Assert.Equal(request.Label, read.Finding.Label);
        Assert.Equal(request.Policy.RecipientInstitutes, read.Finding.Policy.RecipientInstitutes);
        // Delivery moves on (pending, sent, acknowledged); the decisions themselves do not.
        Assert.Equal(submitted.Decisions.Select(d => (d.InstituteId, d.Outcome, d.Reasons.ToString())), read.Decisions.Select(d => (d.InstituteId, d.Outcome, d.Reasons.ToString())));
    }

    [Fact]
    public async Task Submission_stores_a_decision_for_every_other_institute_with_its_reasons()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var response = await Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, RiskDomain.ChemBio, institutes: ["us", "jp"]), auth);

        var byInstitute = response.Decisions.ToDictionary(d => d.InstituteId);
        Assert.Equal(["fr", "jp", "us"], byInstitute.Keys.Order());
        Assert.Equal(DisclosureOutcome.Allow, byInstitute["us"].Outcome);
        Assert.Equal("uk-us", byInstitute["us"].Reasons.Single().AgreementId);
        Assert.Equal(DeliveryState.Pending, byInstitute["us"].Delivery);
        Assert.Equal(DisclosureOutcome.Deny, byInstitute["jp"].Outcome);
        Assert.Equal("deny.agreement-domain-not-covered", byInstitute["jp"].Reasons.Single().Code);
        Assert.Equal(DisclosureOutcome.Deny, byInstitute["fr"].Outcome);
        Assert.Equal("deny.not-in-audience", byInstitute["fr"].Reasons.Single().Code);
    }

    [Fact]
    public async Task The_submission_its_decisions_and_its_audit_events_are_stored_together()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var response = await Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]), auth);

        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var events = await db.AuditEvents.Where(e => e.FindingId == response.Finding.Id).ToListAsync();
        var decisions = await db.Decisions.CountAsync(d => d.FindingId == response.Finding.Id);

        Assert.Equal(3, decisions);
        Assert.Single(events, e => e.Kind == nameof(AuditEventKind.FindingSubmitted));
        Assert.Equal(3, events.Count(e => e.Kind == nameof(AuditEventKind.DisclosureDecided)));
        var submitted = AuditEvent.Parser.ParseFrom(events.Single(e => e.Kind == nameof(AuditEventKind.FindingSubmitted)).Event);
        Assert.Equal(32, submitted.ContentHash.Length);
        Assert.Equal(TestClients.Submitter, submitted.Actor);
    }

    [Fact]
    public async Task Finding_content_is_not_stored_in_clear()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        request.Content.Narrative = $"secret-narrative-{Guid.NewGuid():N}";
        var response = await Findings.SubmitFindingAsync(request, auth);

        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var stored = await db.Findings.SingleAsync(f => f.Id == response.Finding.Id);
        var needle = System.Text.Encoding.UTF8.GetBytes(request.Content.Narrative);
        Assert.False(stored.ProtectedContent.AsSpan().IndexOf(needle) >= 0, "the narrative is readable in the stored bytes");
        Assert.False(stored.ProtectedContent.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(request.Content.Title)) >= 0);
    }

    [Fact]
    public async Task Retrying_a_submission_with_the_same_request_id_returns_the_same_finding()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(institutes: ["us"]);

        var first = await Findings.SubmitFindingAsync(request, auth);
        var retries = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ => await Findings.SubmitFindingAsync(request, auth)));

        Assert.False(first.Replayed);
        Assert.All(retries, r => Assert.True(r.Replayed));
        Assert.All(retries, r => Assert.Equal(first.Finding, r.Finding));
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        Assert.Equal(1, await db.Findings.CountAsync(f => f.RequestId == request.RequestId));
    }

    [Fact]
    public async Task Concurrent_first_attempts_with_one_request_id_store_one_finding()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(institutes: ["us"]);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ => await Findings.SubmitFindingAsync(request, auth)));

        Assert.Single(attempts.Select(a => a.Finding.Id).Distinct());
        Assert.Single(attempts, a => !a.Replayed);
    }

    [Fact]
    public async Task Reusing_a_request_id_for_a_different_finding_is_refused()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        await Findings.SubmitFindingAsync(request, auth);
        request.Content.Title = "Something else entirely";

        var e = await FailsWith(StatusCode.AlreadyExists, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync);
        Assert.Contains("request_id", e.Status.Detail);
    }

    [Fact]
    public async Task Every_bad_field_is_named_not_only_the_first()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(institutes: ["us", "atlantis"], groups: ["nobody"]);
        request.Content.Title = "";
        request.Content.Model.Stage = ModelStage.Unspecified;
        request.Content.Metrics.Add(new Metric { Name = "bad", Value = double.NaN });
        request.Label.Level = TlpLevel.Unspecified;

        var e = await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync);
        var fields = e.FieldViolations();

        Assert.Contains("content.title", fields.Keys);
        Assert.Contains("content.model.stage", fields.Keys);
        Assert.Contains("content.metrics[1].value", fields.Keys);
        Assert.Contains("label.level", fields.Keys);
        Assert.Contains("policy.recipient_institutes[1]", fields.Keys);
        Assert.Contains("policy.recipient_groups[0]", fields.Keys);
        Assert.Contains("atlantis", fields["policy.recipient_institutes[1]"]);
    }

    [Fact]
    public async Task Size_limits_are_enforced_and_stated()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        request.Content.Narrative = new string('x', 64 * 1024 + 1);
        for (var i = 0; i < 201; i++)
        {
            request.Content.Metrics.Add(new Metric { Name = $"m{i}", Value = i });
        }

        var fields = (await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync)).FieldViolations();

        Assert.Contains("64 KiB", fields["content.narrative"]);
        Assert.Contains("limit is 200", fields["content.metrics"]);
    }

    [Fact]
    public async Task An_oversized_request_gets_a_field_error_not_a_transport_error()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        for (var i = 0; i < 20; i++)
        {
            var blob = new byte[250 * 1024];
            Random.Shared.NextBytes(blob);
            request.Content.Artifacts.Add(new Artifact
            {
                Name = $"blob{i}", MediaType = "application/octet-stream", SizeBytes = blob.Length,
                Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(blob)), InlineContent = ByteString.CopyFrom(blob),
            });
        }

        var fields = (await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync)).FieldViolations();
        // Under the message limit, the same artifacts are named by the validator.
        while (request.Content.Artifacts.Count > 6)
        {
            request.Content.Artifacts.RemoveAt(request.Content.Artifacts.Count - 1);
        }
        var within = (await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync)).FieldViolations();

        Assert.Matches(@"^is a message of 4\.\d MiB; the node accepts messages of at most 4 MiB", fields["request"]);
        Assert.Contains("1 MiB", within["content.artifacts"]);
    }

    [Fact]
    public async Task An_artifact_whose_hash_does_not_match_its_content_is_rejected()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        request.Content.Artifacts[0].InlineContent = ByteString.CopyFromUtf8("tampered transcript!!!!!!!!!!!");

        var fields = (await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync)).FieldViolations();

        Assert.Contains("does not match the inline content", fields["content.artifacts[0].sha256"]);
    }

    [Fact]
    public async Task Nothing_is_stored_when_a_submission_is_invalid()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        request.Content.Title = "";
        await FailsWith(StatusCode.InvalidArgument, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync);

        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        Assert.False(await db.Findings.AnyAsync(f => f.RequestId == request.RequestId));
    }

    [Fact]
    public async Task Listing_pages_through_findings_newest_first_and_filters()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var model = $"model-{Guid.NewGuid():N}";
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var request = SampleFindings.Valid(i % 2 == 0 ? TlpLevel.Green : TlpLevel.Clear, i < 3 ? RiskDomain.Cyber : RiskDomain.Autonomy);
            request.Content.Model.Name = model;
            ids.Add((await Findings.SubmitFindingAsync(request, auth)).Finding.Id);
        }

        var seen = new List<string>();
        var page = new ListFindingsRequest { Model = model.ToUpperInvariant(), PageSize = 2 };
        do
        {
            var response = await Findings.ListFindingsAsync(page, auth);
            Assert.True(response.Findings.Count <= 2);
            seen.AddRange(response.Findings.Select(f => f.Id));
            page.PageToken = response.NextPageToken;
        }
        while (page.PageToken.Length > 0);

        Assert.Equal(ids.AsEnumerable().Reverse(), seen);
        var green = await Findings.ListFindingsAsync(new ListFindingsRequest { Model = model, Labels = { TlpLevel.Green } }, auth);
        Assert.Equal(3, green.Findings.Count);
        var autonomy = await Findings.ListFindingsAsync(new ListFindingsRequest { Model = model, RiskDomains = { RiskDomain.Autonomy } }, auth);
        Assert.Equal(ids.Skip(3).Reverse(), autonomy.Findings.Select(f => f.Id));
        var future = await Findings.ListFindingsAsync(new ListFindingsRequest { Model = model, SubmittedAfter = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddMinutes(1)) }, auth);
        Assert.Empty(future.Findings);
        var past = await Findings.ListFindingsAsync(new ListFindingsRequest { Model = model, SubmittedAfter = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddMinutes(-1)), OriginInstitute = "uk" }, auth);
        Assert.Equal(5, past.Findings.Count);
        var elsewhere = await Findings.ListFindingsAsync(new ListFindingsRequest { Model = model, OriginInstitute = "us" }, auth);
        Assert.Empty(elsewhere.Findings);
    }

    [Fact]
    public async Task A_page_token_that_the_node_did_not_issue_is_refused()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Reader);
        var fields = (await FailsWith(StatusCode.InvalidArgument, () => Findings.ListFindingsAsync(new ListFindingsRequest { PageToken = "not-a-token" }, auth).ResponseAsync)).FieldViolations();
        Assert.Contains("page_token", fields.Keys);
    }

    [Fact]
    public async Task Withdrawing_a_finding_records_why_and_hides_it_from_the_default_listing()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid();
        request.Content.Model.Name = $"withdrawn-{Guid.NewGuid():N}";
        var id = (await Findings.SubmitFindingAsync(request, auth)).Finding.Id;

        var withdrawn = await Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = id, Reason = "scoring bug" }, auth);
        var again = await Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = id, Reason = "twice" }, auth);

        Assert.Equal((id, 1, FindingState.Withdrawn), (withdrawn.Id, withdrawn.Version, withdrawn.State));
        Assert.Equal(withdrawn, again);
        Assert.Equal("scoring bug", (await Findings.GetFindingAsync(new GetFindingRequest { Id = id }, auth)).Finding.WithdrawalReason);
        Assert.Empty((await Findings.ListFindingsAsync(new ListFindingsRequest { Model = request.Content.Model.Name }, auth)).Findings);
        Assert.Single((await Findings.ListFindingsAsync(new ListFindingsRequest { Model = request.Content.Model.Name, IncludeWithdrawn = true }, auth)).Findings);
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        Assert.Single(await db.AuditEvents.Where(e => e.FindingId == id && e.Kind == nameof(AuditEventKind.FindingWithdrawn)).ToListAsync());
    }

    [Fact]
    public async Task Superseding_publishes_a_new_version_and_retires_the_old_one()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var first = await Findings.SubmitFindingAsync(SampleFindings.Valid(), auth);
        var second = SampleFindings.Valid();
        second.SupersedesFindingId = first.Finding.Id;
        second.Content.Title = "Corrected uplift figures";

        var v2 = await Findings.SubmitFindingAsync(second, auth);
        var latest = await Findings.GetFindingAsync(new GetFindingRequest { Id = first.Finding.Id }, auth);
        var v1 = await Findings.GetFindingAsync(new GetFindingRequest { Id = first.Finding.Id, Version = 1 }, auth);

        Assert.Equal(first.Finding.Id, v2.Finding.Id);
        Assert.Equal(2, v2.Finding.Version);
        Assert.Equal("Corrected uplift figures", latest.Finding.Content.Title);
        Assert.Equal(FindingState.Superseded, v1.Finding.State);
    }

    [Fact]
    public async Task Withdrawing_or_superseding_an_unknown_finding_says_not_found()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        await FailsWith(StatusCode.NotFound, () => Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = "uk-nothing", Reason = "x" }, auth).ResponseAsync);
        var request = SampleFindings.Valid();
        request.SupersedesFindingId = "uk-nothing";
        await FailsWith(StatusCode.NotFound, () => Findings.SubmitFindingAsync(request, auth).ResponseAsync);
        await FailsWith(StatusCode.NotFound, () => Findings.GetFindingAsync(new GetFindingRequest { Id = "uk-nothing" }, auth).ResponseAsync);
    }
}

public sealed class FindingServiceTests_on_Sqlite(SqliteNodeFixture fixture) : FindingServiceTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class FindingServiceTests_on_Postgres(PostgresNodeFixture fixture) : FindingServiceTests(fixture), IClassFixture<PostgresNodeFixture>;

using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>
/// What any method of the API does with a message too large, one that inflates too large, and text
/// that is not UTF-8, sent plain or gzip-compressed: refused as INVALID_ARGUMENT with a BadRequest that
/// names the field or says the size and the limit. Generated over every method and every string field
/// the protos define.
/// </summary>
public abstract class RequestLimitTests(NodeFixture fixture)
{
    private const int Limit = 4 * 1024 * 1024;

    private async Task<CallOptions> OptionsAsync(Metadata? extra = null)
    {
        var headers = await fixture.Node.AuthAsync(TestClients.Everything);
        foreach (var entry in extra ?? [])
        {
            headers.Add(entry);
        }
        // A guard, not an assertion: a call the node wrongly lets through (a subscription) ends here.
        return new CallOptions(headers, deadline: DateTime.UtcNow.AddSeconds(30));
    }

    [Fact]
    public async Task A_message_over_the_limit_to_any_method_is_refused_saying_its_size_and_the_limit()
    {
        var options = await OptionsAsync();
        foreach (var method in WireRequests.Methods)
        {
            var refused = await WireRequests.CallAsync(fixture.Channel.CreateCallInvoker(), method, WireRequests.OfSize(7 * 1024 * 1024), options);

            Assert.True(refused?.StatusCode == StatusCode.InvalidArgument, $"{method.FullName}: {refused?.StatusCode} {refused?.Status.Detail}");
            Assert.NotNull(refused);
            Assert.Equal("is a message of 7.0 MiB; the node accepts messages of at most 4 MiB (Findings:Limits:MaxRequestBytes)", refused.FieldViolations()["request"]);
        }
    }

    [Fact]
    public async Task A_compressed_message_that_inflates_past_the_limit_is_refused_before_it_is_whole()
    {
        var options = await OptionsAsync(new Metadata { { "grpc-internal-encoding-request", "gzip" } });
        foreach (var method in WireRequests.Methods)
        {
            var refused = await WireRequests.CallAsync(fixture.Channel.CreateCallInvoker(), method, WireRequests.OfSize(Limit + 1024), options);

            Assert.True(refused?.StatusCode == StatusCode.InvalidArgument, $"{method.FullName}: {refused?.StatusCode} {refused?.Status.Detail}");
            Assert.NotNull(refused);
            Assert.Contains("inflates to more than 4 MiB", refused.FieldViolations()["request"]);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Text_that_is_not_UTF8_in_any_string_field_of_any_request_is_refused_naming_the_field_compressed_or_not(bool compressed)
    {
        var options = await OptionsAsync(compressed ? new Metadata { { "grpc-internal-encoding-request", "gzip" } } : null);
        var checkedFields = 0;
        foreach (var method in WireRequests.Methods)
        {
            foreach (var (path, fields) in WireRequests.StringFields(method.InputType))
            {
                var refused = await WireRequests.CallAsync(fixture.Channel.CreateCallInvoker(), method, WireRequests.WithField(fields, [(byte)'a', 0xFF, 0xFE, (byte)'z']), options);

                Assert.True(refused?.StatusCode == StatusCode.InvalidArgument, $"{method.FullName} {path}: {refused?.StatusCode} {refused?.Status.Detail}");
                Assert.NotNull(refused);
                Assert.Equal("is not valid UTF-8 text", refused.FieldViolations()[path]);
                checkedFields++;
            }
        }
        Assert.True(checkedFields > 50, $"only {checkedFields} string fields found");
    }

    [Fact]
    public async Task A_chunk_over_the_limit_in_the_middle_of_an_upload_is_refused_and_nothing_is_left_behind()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        using var call = fixture.Findings.ImportInspectLog(auth);
        var options = new InspectImportOptions { FileName = "big.json", Label = new Label { Level = TlpLevel.Green }, RiskDomain = RiskDomain.Cyber, Recipients = { "g7" }, DryRun = true };
        try
        {
            await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Options = options });
            await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(new byte[1024]) });
            await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(new byte[5 * 1024 * 1024]) });
            await call.RequestStream.CompleteAsync();
        }
        catch (Exception early) when (early is RpcException or InvalidOperationException)
        {
            // The node ended the call early; ResponseAsync carries its status.
        }

        var e = await FailsWith(StatusCode.InvalidArgument, () => call.ResponseAsync);

        Assert.StartsWith("is a message of 5.0 MiB", e.FieldViolations()["request"]);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(fixture.Node.DataDirectory, "imports")));
    }

    [Fact]
    public async Task The_lone_surrogate_found_in_a_task_name_imports_with_a_note_naming_the_field()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        using var call = fixture.Findings.ImportInspectLog(auth);
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest
        {
            Options = new InspectImportOptions { FileName = "case.json", Label = new Label { Level = TlpLevel.Green }, RiskDomain = RiskDomain.Cyber, Recipients = { "g7" }, DryRun = true },
        });
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "cases", "inspect-lone-surrogate-in-task-name.json"))) });
        await call.RequestStream.CompleteAsync();

        var response = await call.ResponseAsync;

        Assert.Equal("case09_task_\uFFFD_half", response.Finding.Content.Evaluation.Task);
        Assert.Equal(["eval.task in the log was not valid Unicode text; one character is replaced with U+FFFD"], response.Notes);
    }
}

public sealed class RequestLimitTests_on_Sqlite(SqliteNodeFixture fixture) : RequestLimitTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class RequestLimitTests_on_Postgres(PostgresNodeFixture fixture) : RequestLimitTests(fixture), IClassFixture<PostgresNodeFixture>;

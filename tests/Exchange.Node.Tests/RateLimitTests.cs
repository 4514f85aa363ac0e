using System.Collections.Concurrent;
using System.Net;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>
/// The token endpoint and failed authentications, limited per client and per address with small
/// limits configured for the test (the defaults are generous). Windows of an hour, so that no window
/// ends inside a test. The limiter holds no database state: one provider.
/// </summary>
public sealed class RateLimitTests : TestWorkspace
{
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us");
    private readonly CapturedLogs _logs = new();

    private NodeHost Node(int tokensPerClient = 1000, int tokensPerAddress = 1000, int failuresPerClient = 1000, int failuresPerAddress = 1000) =>
        new("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
        [
            new("RateLimits:TokenRequestsPerClient", tokensPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:TokenRequestsPerAddress", tokensPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:FailedAuthenticationsPerClient", failuresPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:FailedAuthenticationsPerAddress", failuresPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:Window", "01:00:00"),
        ], services: s => s.AddSingleton<ILoggerProvider>(_logs));

    private static async Task<HttpResponseMessage> TokenRequestAsync(NodeHost node, string clientId, string? secret = null)
    {
        using var http = node.CreateClient();
        return await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = secret ?? TestClients.Secret(clientId),
        }));
    }

    [Fact]
    public async Task Token_requests_over_the_limit_for_one_client_are_answered_429_with_a_log_line_and_other_clients_go_on()
    {
        await using var node = Node(tokensPerClient: 3);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await TokenRequestAsync(node, TestClients.Reader)).StatusCode);
        }
        using var refused = await TokenRequestAsync(node, TestClients.Reader);

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("too many token requests", await refused.Content.ReadAsStringAsync());
        Assert.Contains(_logs.Warnings, l => l.Contains("/connect/token", StringComparison.Ordinal) && l.Contains(TestClients.Reader, StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await TokenRequestAsync(node, TestClients.Submitter)).StatusCode);
    }

    [Fact]
    public async Task Token_requests_over_the_limit_from_one_address_are_answered_429_whatever_client_they_name()
    {
        await using var node = Node(tokensPerAddress: 4);

        foreach (var client in new[] { TestClients.Reader, TestClients.Submitter, TestClients.Auditor, "no-such-client" })
        {
            (await TokenRequestAsync(node, client)).Dispose();
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await TokenRequestAsync(node, TestClients.Admin)).StatusCode);
    }

    [Fact]
    public async Task Wrong_secrets_for_one_client_lock_that_client_out_even_with_the_right_one()
    {
        await using var node = Node(failuresPerClient: 3);

        for (var i = 0; i < 3; i++)
        {
            Assert.NotEqual(HttpStatusCode.OK, (await TokenRequestAsync(node, TestClients.Reader, "a-guess-at-the-secret-" + i)).StatusCode);
        }
        using var locked = await TokenRequestAsync(node, TestClients.Reader);

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("too many failed authentications", await locked.Content.ReadAsStringAsync());
        Assert.Contains(_logs.Warnings, l => l.Contains("too many failed authentications", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await TokenRequestAsync(node, TestClients.Submitter)).StatusCode);
    }

    [Fact]
    public async Task Calls_with_bad_tokens_from_one_address_end_in_RESOURCE_EXHAUSTED_for_every_call_from_it()
    {
        await using var node = Node(failuresPerAddress: 5);
        var good = await node.AuthAsync(TestClients.Reader);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);

        for (var i = 0; i < 5; i++)
        {
            await FailsWith(StatusCode.Unauthenticated, () => findings.ListFindingsAsync(new ListFindingsRequest(), new Metadata { { "authorization", $"Bearer forged-{i}" } }).ResponseAsync);
        }
        var e = await FailsWith(StatusCode.ResourceExhausted, () => findings.ListFindingsAsync(new ListFindingsRequest(), good).ResponseAsync);

        Assert.Contains("too many failed authentications", e.Status.Detail);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await TokenRequestAsync(node, TestClients.Submitter)).StatusCode);
        Assert.Contains(_logs.Warnings, l => l.Contains("ListFindings", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calls_that_present_no_token_guess_nothing_and_lock_no_one_out()
    {
        await using var node = Node(failuresPerAddress: 5);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);

        for (var i = 0; i < 10; i++)
        {
            await FailsWith(StatusCode.Unauthenticated, () => findings.ListFindingsAsync(new ListFindingsRequest()).ResponseAsync);
        }

        await findings.ListFindingsAsync(new ListFindingsRequest(), await node.AuthAsync(TestClients.Reader));
    }

    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _warnings = new();

        public IEnumerable<string> Warnings => _warnings;

        public ILogger CreateLogger(string categoryName) => new Logger(_warnings);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> warnings) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    warnings.Enqueue(formatter(state, exception));
                }
            }
        }
    }
}

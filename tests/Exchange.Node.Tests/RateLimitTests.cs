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

    private NodeHost Node(int tokensPerClient = 1000, int tokensPerAddress = 1000, int failuresPerClient = 1000, int failuresPerAddress = 1000, string? trustedProxy = null) =>
        new("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
        [
            new("RateLimits:TokenRequestsPerClient", tokensPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:TokenRequestsPerAddress", tokensPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:FailedAuthenticationsPerClient", failuresPerClient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:FailedAuthenticationsPerAddress", failuresPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("RateLimits:Window", "01:00:00"),
            .. trustedProxy is null ? [] : new KeyValuePair<string, string?>[] { new("Node:TrustedProxies:0", trustedProxy) },
        ], services: s => s.AddSingleton<ILoggerProvider>(_logs));

    /// <summary>A token request as if it came from <paramref name="address"/> (optionally through a proxy naming <paramref name="forwardedFor"/>).</summary>
    private static async Task<HttpStatusCode> TokenRequestFromAsync(NodeHost node, string address, string clientId, string? secret = null, string? forwardedFor = null)
    {
        var form = $"grant_type=client_credentials&client_id={Uri.EscapeDataString(clientId)}&client_secret={Uri.EscapeDataString(secret ?? TestClients.Secret(clientId))}";
        var context = await node.Server.SendAsync(c =>
        {
            c.Connection.RemoteIpAddress = IPAddress.Parse(address);
            c.Request.Method = "POST";
            c.Request.Path = "/connect/token";
            c.Request.ContentType = "application/x-www-form-urlencoded";
            c.Request.Body = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(form));
            if (forwardedFor is not null)
            {
                c.Request.Headers["X-Forwarded-For"] = forwardedFor;
            }
        });
        return (HttpStatusCode)context.Response.StatusCode;
    }

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
    public async Task Wrong_secrets_for_one_client_lock_that_client_out_at_that_address_even_with_the_right_one()
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
    public async Task Wrong_secrets_naming_a_client_from_elsewhere_do_not_lock_that_client_out()
    {
        await using var node = Node(failuresPerClient: 3, tokensPerClient: 3);

        // Someone at another address names the client (client ids are no secret) with guesses, and
        // with more requests than the client's own budget.
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(HttpStatusCode.OK, await TokenRequestFromAsync(node, "203.0.113.66", TestClients.Reader, "a-guess-at-the-secret-" + i));
        }

        Assert.Equal(HttpStatusCode.OK, await TokenRequestFromAsync(node, "198.51.100.5", TestClients.Reader));
        Assert.Equal(HttpStatusCode.TooManyRequests, await TokenRequestFromAsync(node, "203.0.113.66", TestClients.Reader));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_caller_is_counted_by_its_own_address_and_an_untrusted_one_by_the_connection()
    {
        await using var node = Node(failuresPerAddress: 3, trustedProxy: "10.0.0.0/8");

        for (var i = 0; i < 3; i++)
        {
            await TokenRequestFromAsync(node, "10.1.2.3", "no-such-client", "a-guess-0123456789", forwardedFor: "203.0.113.66");
        }

        // The attacker's address is used up; another caller through the same proxy is not.
        Assert.Equal(HttpStatusCode.TooManyRequests, await TokenRequestFromAsync(node, "10.1.2.3", TestClients.Reader, forwardedFor: "203.0.113.66"));
        Assert.Equal(HttpStatusCode.OK, await TokenRequestFromAsync(node, "10.1.2.3", TestClients.Reader, forwardedFor: "198.51.100.5"));
        // A connection from outside the trusted networks names whatever it likes in vain.
        for (var i = 0; i < 3; i++)
        {
            await TokenRequestFromAsync(node, "192.0.2.9", "no-such-client", "a-guess-0123456789", forwardedFor: $"198.51.100.{i}");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, await TokenRequestFromAsync(node, "192.0.2.9", TestClients.Reader, forwardedFor: "198.51.100.77"));
    }

    [Fact]
    public async Task Calls_with_bad_tokens_lock_no_one_out_tokens_cannot_be_guessed()
    {
        await using var node = Node(failuresPerAddress: 5);
        var good = await node.AuthAsync(TestClients.Reader);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);

        for (var i = 0; i < 20; i++)
        {
            await FailsWith(StatusCode.Unauthenticated, () => findings.ListFindingsAsync(new ListFindingsRequest(), new Metadata { { "authorization", $"Bearer forged-{i}" } }).ResponseAsync);
        }

        await findings.ListFindingsAsync(new ListFindingsRequest(), good);
        Assert.Equal(HttpStatusCode.OK, (await TokenRequestAsync(node, TestClients.Submitter)).StatusCode);
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

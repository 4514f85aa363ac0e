using System.CommandLine;
using System.Net;
using System.Text;
using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>
/// The CLI never sends a client secret or an access token over plain http:// to another machine
/// unless its user says so (--allow-plain-http, or EXCHANGE_ALLOW_PLAIN_HTTP=1): generated over every
/// command, each run once without the word (refused, exit 2, nothing sent) and once with it (sent).
/// Requests are caught by an HTTP handler in the process, so nothing leaves it.
/// </summary>
public sealed class PlainHttpCliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    // TEST-NET-1 (RFC 5737): not loopback. Nothing is sent to it: a handler in the process catches every request.
    private const string Remote = "http://192.0.2.2:5000/";
    private readonly string _folder = Path.Combine(fixture.Directory, "plain-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task No_command_sends_credentials_or_tokens_over_plain_http_to_another_machine_unless_told_to()
    {
        var recorder = new Recorder();
        var config = Path.Combine(_folder, "config");
        var sending = new List<string>();
        foreach (var (path, command) in CommandTree.All().Where(c => c.Path is not ["demo"]))
        {
            var typed = string.Join(' ', path);
            var arguments = Arguments(path, command);
            // Credentials and a fresh token kept for the remote node, as after a login the user allowed
            // (again for each command: logout forgets them).
            var login = await RunAsync(recorder, config, ["login", "--client-id", TestClients.Reader, "--client-secret", "s3cret-s3cret-s3cret", "--node", Remote, "--allow-plain-http"]);
            Assert.True(login.ExitCode == 0, login.Error);
            Assert.Equal([$"POST {Remote}connect/token"], recorder.Take());

            var refused = await RunAsync(recorder, config, [.. arguments, "--node", Remote]);
            var sentUnasked = recorder.Take();
            var allowed = await RunAsync(recorder, config, [.. arguments, "--node", Remote, "--allow-plain-http"]);
            var sentAllowed = recorder.Take();

            Assert.True(sentUnasked.Count == 0, $"exchange {typed} sent {string.Join(", ", sentUnasked)} without --allow-plain-http");
            if (sentAllowed.Count > 0)
            {
                sending.Add(typed);
                Assert.True(refused.ExitCode == ExitCodes.Usage, $"exchange {typed}: exit {refused.ExitCode}: {refused.Error}");
                Assert.Contains("--allow-plain-http", refused.Error);
                Assert.Contains("EXCHANGE_ALLOW_PLAIN_HTTP=1", refused.Error);
            }
            else
            {
                // A command that sends nothing to a node is not refused for naming one.
                Assert.True(!refused.Error.Contains("--allow-plain-http", StringComparison.Ordinal), $"exchange {typed}: {refused.Error} (allowed: exit {allowed.ExitCode} {allowed.Error})");
            }
        }
        // The harness reached the node with every command that talks to one, or it proved nothing.
        Assert.True(sending.Count >= 15, $"only these commands reached the node when allowed: {string.Join(", ", sending)}");
        Assert.Contains("login", sending);
        Assert.Contains("subscribe", sending);
        Assert.Contains("audit export", sending);
        Assert.Contains("import inspect", sending);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/")]
    [InlineData("http://127.0.0.5:5000/")]
    [InlineData("http://[::1]:5000/")]
    [InlineData("http://localhost:5000/")]
    [InlineData("http://LocalHost:5000/")]
    [InlineData("https://192.0.2.2:5000/")]
    public async Task A_node_on_this_machine_or_over_https_needs_no_word(string node)
    {
        var recorder = new Recorder();

        var login = await RunAsync(recorder, Path.Combine(_folder, "config-" + Guid.NewGuid().ToString("N")),
            ["login", "--client-id", TestClients.Reader, "--client-secret", "s3cret-s3cret-s3cret", "--node", node]);

        Assert.True(login.ExitCode == 0, login.Error);
        Assert.Single(recorder.Take());
    }

    [Fact]
    public async Task The_environment_variable_allows_plain_http_as_the_option_does()
    {
        var recorder = new Recorder();
        var config = Path.Combine(_folder, "config-" + Guid.NewGuid().ToString("N"));
        string[] login = ["login", "--client-id", TestClients.Reader, "--client-secret", "s3cret-s3cret-s3cret", "--node", Remote];

        // The process's own environment: the tests of this class run one at a time, and no other class
        // names a node beyond loopback, so no other test can see the difference.
        Environment.SetEnvironmentVariable("EXCHANGE_ALLOW_PLAIN_HTTP", "1");
        CliRun allowed;
        try
        {
            allowed = await RunAsync(recorder, config, login);
        }
        finally
        {
            Environment.SetEnvironmentVariable("EXCHANGE_ALLOW_PLAIN_HTTP", null);
        }
        var sentAllowed = recorder.Take();
        var refused = await RunAsync(recorder, config, login);

        Assert.True(allowed.ExitCode == 0, allowed.Error);
        Assert.Equal([$"POST {Remote}connect/token"], sentAllowed);
        Assert.Equal(ExitCodes.Usage, refused.ExitCode);
        Assert.Empty(recorder.Take());
    }

    // A value for each argument and required option, good enough for the command to reach a node.
    private string[] Arguments(string[] path, Command command)
    {
        var arguments = new List<string>(path);
        arguments.AddRange(command.Arguments.Select(a => a.Name == "log" ? "cases/inspect-lone-surrogate-in-task-name.json" : "f-1"));
        foreach (var option in command.Options.Where(o => o.Required))
        {
            arguments.Add(option.Name);
            arguments.Add(option.Name switch
            {
                "--file" => "samples/finding.green.json",
                "--reason" => "a reason",
                "--manifest" => fixture.ManifestPath,
                "--entry" => "0",
                "--from" => "1",
                "--label" => "GREEN",
                "--to" => "us",
                "--risk-domain" => "cyber",
                "--client-id" => TestClients.Reader,
                "--institute" => "uk",
                "--out" => Path.Combine(_folder, "out-" + Guid.NewGuid().ToString("N")),
                var name => throw new InvalidOperationException($"exchange {string.Join(' ', path)}: no sample value for {name}; add one here"),
            });
        }
        if (path is ["login"])
        {
            arguments.AddRange(["--client-secret", "s3cret-s3cret-s3cret"]);
        }
        return [.. arguments];
    }

    private static async Task<CliRun> RunAsync(Recorder recorder, string config, string[] args)
    {
        using var stop = new CancellationTokenSource();
        recorder.Stop = stop;
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, ConfigDirectory = config, HttpHandlerFactory = () => recorder };
        var code = await CliApp.RunAsync(args, context, stop.Token);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Stands in for the network: answers token requests with a token, and records every other
    /// request, then ends the run (so that a command that retries, as subscribe does, stops).
    /// </summary>
    private sealed class Recorder : HttpMessageHandler
    {
        private readonly List<string> _requests = [];

        public CancellationTokenSource? Stop { get; set; }

        public List<string> Take()
        {
            lock (_requests)
            {
                var taken = _requests.ToList();
                _requests.Clear();
                return taken;
            }
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (_requests)
            {
                _requests.Add($"{request.Method} {request.RequestUri}");
            }
            if (request.RequestUri!.AbsolutePath == "/connect/token")
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
                {
                    Content = new StringContent("""{"access_token": "a-token", "token_type": "Bearer", "expires_in": 300}""", Encoding.UTF8, "application/json"),
                });
            }
            Stop?.Cancel();
            throw new HttpRequestException("caught by the test, not sent");
        }
    }
}

using System.CommandLine;
using System.Text;
using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>
/// What the CLI says, and the exit code it gives, for input it or the node cannot take: usage errors
/// on every command (generated over the command tree), requests over the node's message limit, files
/// too large to be a finding, and logs with text that is not valid Unicode.
/// </summary>
public sealed class HostileInputCliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private const string Node = "http://localhost/";
    private readonly string _config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));

    private async Task<CliRun> Exchange(params string[] args)
    {
        if (!File.Exists(Path.Combine(_config, "credentials.json")))
        {
            await fixture.RunAsync(_config, "login", "--node", Node, "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));
        }
        return await fixture.RunAsync(_config, args);
    }

    private static List<(string[] Path, Command Command)> AllCommands() => CommandTree.All();

    [Fact]
    public async Task A_usage_error_on_any_command_exits_2_with_the_error_and_where_the_help_is_not_the_help_itself()
    {
        var commands = AllCommands();
        Assert.True(commands.Count >= 20, $"only {commands.Count} commands found");
        foreach (var (path, command) in commands)
        {
            // Positional arguments first, or the option would be taken for one.
            var run = await fixture.RunAsync(_config, [.. path, .. command.Arguments.Select(_ => "x"), "--no-such-option"]);

            var typed = string.Join(' ', path);
            Assert.True(run.ExitCode == ExitCodes.Usage, $"exchange {typed} --no-such-option: exit {run.ExitCode}: {run.Error}");
            Assert.True(run.Error.Contains("'--no-such-option'", StringComparison.Ordinal), $"exchange {typed}: {run.Error}");
            Assert.Contains($"Run 'exchange {typed} --help' for usage.", run.Error);
            Assert.DoesNotContain("Options:", run.Error + run.Out);
            Assert.Empty(run.Out);
        }
    }

    [Fact]
    public async Task A_missing_required_option_on_any_command_exits_2_naming_it()
    {
        foreach (var (path, command) in AllCommands().Where(c => c.Command.Options.Any(o => o.Required)))
        {
            var run = await fixture.RunAsync(_config, path);

            Assert.True(run.ExitCode == ExitCodes.Usage, $"exchange {string.Join(' ', path)}: exit {run.ExitCode}: {run.Error}");
            foreach (var option in command.Options.Where(o => o.Required))
            {
                Assert.Contains($"'{option.Name}'", run.Error);
            }
        }
    }

    [Fact]
    public async Task A_finding_over_the_nodes_message_limit_exits_4_saying_its_size_and_the_limit()
    {
        var file = Path.Combine(fixture.Directory, $"large-{Guid.NewGuid():N}.json");
        var text = File.ReadAllText("samples/finding.green.json");
        var at = text.IndexOf("\"narrative\": \"", StringComparison.Ordinal) + "\"narrative\": \"".Length;
        File.WriteAllText(file, text[..at] + new string('n', 7 * 1024 * 1024) + text[at..]);

        var run = await Exchange("findings", "submit", "--file", file);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("request: is a message of 7.0 MiB; the node accepts messages of at most 4 MiB", run.Error);
    }

    [Fact]
    public async Task A_file_larger_than_any_finding_is_refused_before_it_is_read_whole()
    {
        var file = Path.Combine(fixture.Directory, $"huge-{Guid.NewGuid():N}.json");
        using (var stream = File.Create(file))
        {
            stream.Write("{\"content\": {\"narrative\": \""u8);
            stream.Write(Encoding.ASCII.GetBytes(new string('n', 65 * 1024 * 1024)));
            stream.Write("\"}}"u8);
        }

        var run = await Exchange("findings", "submit", "--file", file);
        File.Delete(file);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("--file", run.Error);
        Assert.Contains("larger than 64 MiB", run.Error);
    }

    [Fact]
    public async Task A_finding_file_that_is_not_UTF8_exits_4_naming_the_file()
    {
        var file = Path.Combine(fixture.Directory, $"latin1-{Guid.NewGuid():N}.json");
        File.WriteAllBytes(file, [.. Encoding.UTF8.GetBytes(File.ReadAllText("samples/finding.green.json").Replace("Refusal rates", "Refusal r\u00e9tes", StringComparison.Ordinal)).Select(b => b == 0xC3 ? (byte)0xE9 : b).Where(b => b != 0xA9)]);

        var run = await Exchange("findings", "submit", "--file", file);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("--file", run.Error);
        Assert.Contains("not UTF-8 text", run.Error);
    }

    [Fact]
    public async Task The_log_with_a_lone_surrogate_imports_and_the_note_says_which_field_was_repaired()
    {
        var run = await Exchange("import", "inspect", "cases/inspect-lone-surrogate-in-task-name.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber", "--dry-run");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("note: eval.task in the log was not valid Unicode text; one character is replaced with U+FFFD", run.Out);
    }

    [Fact]
    public async Task The_log_with_an_emoji_at_the_cut_imports_without_a_replacement_character()
    {
        var run = await Exchange("import", "inspect", "cases/inspect-emoji-at-clip-point.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber", "--dry-run", "-o", "json");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.DoesNotContain("\\ufffd", run.Out, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\uFFFD", run.Out);
        Assert.Contains(new string('t', 198) + "…", run.Out);
    }
}

namespace Exchange.Cli.Tests;

/// <summary>The README's main command: three nodes in one process, over MassTransit's in-memory transport.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_shows_every_decision_delivers_what_is_allowed_and_withdraws_everywhere()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await CliApp.RunAsync(["demo"], new CliContext { Out = output, Error = error, ConfigDirectory = Path.GetTempPath() });

        var text = output.ToString();
        Assert.True(code == 0, error.ToString() + text);
        Assert.Matches(@"jp\s+DENY\s+NOT_SENT\s+tlp\.amber\s+deny\.agreement-domain-not-covered \[uk-jp\]", text);
        Assert.Matches(@"jp\s+DENY\s+NOT_SENT\s+tlp\.red\s+deny\.named-through-group-only", text);
        Assert.Matches(@"us\s+SCHEDULED \S+ \S+\s+HELD", text);
        Assert.Matches(@"RED\s+Working exploit chain found in red teaming\s+us: acknowledged, jp: denied", text);
        Assert.Matches(@"Jailbreak transfer \(embargoed until release\)\s+us: acknowledged", text);
        Assert.Matches(@"jp\s+from uk\s+GREEN\s+withdrawn", text);
        Assert.DoesNotMatch(@"jp\s+from uk\s+RED", text);
        Assert.Matches(@"uk\s+\d+\s+\d+\s+jp up to \d+, us up to \d+\s+verified", text);
        Assert.Matches(@"us\s+\d+\s+\d+\s+uk up to \d+\s+verified", text);
        Assert.Contains("Demo complete", text);
    }
}

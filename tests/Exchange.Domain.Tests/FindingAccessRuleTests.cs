using Exchange.Domain.Access;
using Exchange.V1;

namespace Exchange.Domain.Tests;

/// <summary>The access rule as a table: every label × every set of scopes × held or not.</summary>
public sealed class FindingAccessRuleTests
{
    private static readonly TlpLevel[] Labels = [TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red];

    public static TheoryData<int> ScopeSets() => [.. Enumerable.Range(0, 1 << Scopes.All.Count)];

    [Theory]
    [MemberData(nameof(ScopeSets))]
    public void Content_needs_findings_read_and_for_red_the_red_scope_and_nothing_held_is_shown(int mask)
    {
        var scopes = Scopes.All.Where((_, bit) => (mask & (1 << bit)) != 0).ToHashSet();
        foreach (var label in Labels)
        {
            foreach (var held in new[] { false, true })
            {
                var access = FindingAccessRule.Decide(scopes, label, held);
                var read = scopes.Contains(Scopes.FindingsRead);
                var red = scopes.Contains(Scopes.FindingsReadRed);
                var expected = held || !read || (label == TlpLevel.Red && !red)
                    ? (scopes.Contains(Scopes.AuditRead) ? FindingView.Metadata : FindingView.Nothing)
                    : FindingView.Content;
                Assert.Equal(expected, access.View);
                Assert.Equal(expected == FindingView.Content && label >= TlpLevel.Amber, access.Audited);
                Assert.Equal(expected == FindingView.Content, access.Missing is null);
            }
        }
    }

    [Fact]
    public void The_refusal_names_what_is_missing()
    {
        Assert.Contains(Scopes.FindingsReadRed, FindingAccessRule.Decide(new HashSet<string> { Scopes.FindingsRead }, TlpLevel.Red, false).Missing);
        Assert.Contains(Scopes.FindingsRead, FindingAccessRule.Decide(new HashSet<string> { Scopes.FindingsSubmit }, TlpLevel.Green, false).Missing);
        Assert.Contains("embargo", FindingAccessRule.Decide(new HashSet<string>(Scopes.All), TlpLevel.Clear, true).Missing);
    }
}

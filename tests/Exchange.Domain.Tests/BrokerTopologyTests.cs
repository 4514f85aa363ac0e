using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using Exchange.Domain.Network;
using static Exchange.Domain.Tests.ManifestText;

namespace Exchange.Domain.Tests;

/// <summary>
/// Broker rights follow from queue names (BrokerTopology.Permissions), and queue names come from
/// the manifest: for any two names the manifest accepts, neither institute's rights reach the
/// other's queue, exchanges or error queues, except writing to its deliveries exchange.
/// </summary>
public sealed class BrokerTopologyTests
{
    private static readonly Gen<string> Names = Gen.OneOf(
        Gen.Char["abcu.-_k0"].Array[1, 14].Select(c => new string(c)),
        Gen.Select(Gen.Char["abuk"].Array[1, 4], Gen.OneOf(Gen.Const(""), Gen.Const(".deliveries"), Gen.Const("_error"), Gen.Const("_skipped"), Gen.Const(".x")))
            .Select((c, s) => new string(c) + s));

    private static string[] Derived(string queue) => [queue, queue + "_error", queue + "_skipped", queue + ".deliveries"];

    [Fact]
    public void No_two_queue_names_the_manifest_accepts_give_one_institute_rights_over_the_others_objects()
    {
        var checkedPairs = 0;
        Gen.Select(Names, Names).Sample((a, b) =>
        {
            if (a == b || BrokerTopology.QueueNameProblem(a) is not null || BrokerTopology.QueueNameProblem(b) is not null)
            {
                return;
            }
            checkedPairs++;
            var (configure, write, read) = BrokerTopology.Permissions(a);
            foreach (var name in Derived(b))
            {
                Assert.False(Regex.IsMatch(name, configure), $"{a} may configure {name}");
                Assert.False(Regex.IsMatch(name, read), $"{a} may read {name}");
                Assert.Equal(name == b + ".deliveries", Regex.IsMatch(name, write));
            }
            // And its own, all of them.
            Assert.All(Derived(a), name => Assert.Matches(configure, name));
        }, iter: 20_000);
        Assert.True(checkedPairs > 1000, $"only {checkedPairs} pairs of valid names were generated");
    }

    [Theory]
    [InlineData("exchange.uk.inbox.deliveries")]
    [InlineData("exchange.uk.inbox_error")]
    [InlineData("Exchange.UK")]
    [InlineData("exchange uk")]
    [InlineData(".hidden")]
    public void A_manifest_naming_a_queue_that_could_be_anothers_derived_name_is_refused_naming_the_entry(string queue)
    {
        var document = Document([Institute("uk", 0), Institute("us", 1)], [], []);
        document["institutes"]![1]!["brokerQueue"] = queue;

        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load(Bytes(document)));

        Assert.Contains(e.Errors, m => m.Contains("institute 'us'") && m.Contains("brokerQueue"));
    }
}

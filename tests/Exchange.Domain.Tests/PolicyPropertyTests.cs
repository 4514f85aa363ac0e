using System.Text.Json.Nodes;
using CsCheck;
using Exchange.Domain.Network;
using Exchange.Domain.Policy;
using Exchange.V1;
using static Exchange.Domain.Tests.ManifestText;

namespace Exchange.Domain.Tests;

/// <summary>
/// The policy's promises, checked over random manifests and findings: nobody receives what the
/// rules do not allow, whatever the institutes, groups, agreements, labels and audiences.
/// </summary>
public sealed class PolicyPropertyTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] DomainNames = ["cyber", "chem-bio", "autonomy", "societal", "safeguards", "general-knowledge", "hallucination", "multilingual", "other"];
    private static readonly string[] LabelNames = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

    // Agreement windows: ended, in force, not yet in force. Two agreements of one pair never share a window.
    private static readonly (DateTimeOffset From, DateTimeOffset To)[] Windows =
    [
        (new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        (new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        (new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2032, 1, 1, 0, 0, 0, TimeSpan.Zero)),
    ];

    private sealed record AgreementSpec(int A, int B, int Label, int DomainMask, int Window);

    private sealed record Scenario(int Count, bool[] Community, bool[][] Groups, AgreementSpec[] Agreements,
        int Origin, TlpLevel Label, RiskDomain Domain, bool[] Direct, bool[] GroupsNamed, bool Withdrawn, bool Embargoed)
    {
        public string Id(int i) => $"i{i}";

        public JsonObject Document(IEnumerable<AgreementSpec>? agreements = null) => ManifestText.Document(
            Enumerable.Range(0, Count).Select(i => Institute(Id(i), i)),
            new[] { Group("network", Enumerable.Range(0, Count).Where(i => Community[i]).Select(Id).DefaultIfEmpty(Id(0)).ToArray()) }
                .Concat(Groups.Select((members, g) => Group($"g{g}", Enumerable.Range(0, Count).Where(i => members[i]).Select(Id).DefaultIfEmpty(Id(0)).ToArray()))),
            (agreements ?? Agreements).Select((a, k) => Agreement($"a{k}", [Id(a.A), Id(a.B)], LabelNames[a.Label - 1],
                DomainNames.Where((_, d) => (a.DomainMask & (1 << d)) != 0).ToArray(), Windows[a.Window].From, Windows[a.Window].To)));

        public NetworkManifest Manifest(IEnumerable<AgreementSpec>? agreements = null) => ManifestLoader.Load(Bytes(Document(agreements)));

        public DisclosureSubject Subject(TlpLevel? label = null) => new(
            Id(Origin), label ?? Label, Domain,
            Enumerable.Range(0, Count).Where(i => Direct[i]).Select(Id).ToArray(),
            Enumerable.Range(0, Groups.Length).Where(g => GroupsNamed[g]).Select(g => $"g{g}").ToArray(),
            Embargoed ? Now.AddDays(10) : null,
            Withdrawn: Withdrawn);
    }

    private static readonly Gen<Scenario> Scenarios =
        from count in Gen.Int[2, 10]
        from community in Gen.Bool.Array[count]
        from groups in Gen.Bool.Array[count].Array[0, 3]
        from agreements in Gen.Select(Gen.Int[0, count - 1], Gen.Int[0, count - 1], Gen.Int[1, 5], Gen.Int[0, 511], Gen.Int[0, 2])
            .Select((a, b, label, mask, window) => new AgreementSpec(a, b, label, mask, window)).Array[0, 12]
        from origin in Gen.Int[0, count - 1]
        from label in Gen.Int[1, 5]
        from domain in Gen.Int[1, 9]
        from direct in Gen.Bool.Array[count]
        from groupsNamed in Gen.Bool.Array[groups.Length]
        from withdrawn in Gen.Int[0, 9]
        from embargoed in Gen.Int[0, 4]
        select new Scenario(count, community, groups, Distinct(agreements), origin, (TlpLevel)label, (RiskDomain)domain, direct, groupsNamed, withdrawn == 0, embargoed == 0);

    // Keep one agreement per pair and window, and none with itself: what a valid manifest allows.
    private static AgreementSpec[] Distinct(AgreementSpec[] agreements) =>
        agreements.Where(a => a.A != a.B)
            .GroupBy(a => (Math.Min(a.A, a.B), Math.Max(a.A, a.B), a.Window))
            .Select(g => g.First())
            .ToArray();

    [Fact]
    public void No_institute_is_allowed_what_the_rules_do_not_allow()
    {
        Scenarios.Sample(s =>
        {
            var manifest = s.Manifest();
            var subject = s.Subject();
            foreach (var decision in new DisclosurePolicy(manifest).Decide(subject, Now).Where(d => d.Permits))
            {
                var r = decision.InstituteId;
                Assert.False(subject.Withdrawn);
                Assert.NotEqual(subject.Origin, r);
                var direct = subject.Institutes.Contains(r);
                var viaGroup = subject.Groups.Any(g => manifest.GroupsById[g].Members.Contains(r));
                Assert.True(direct || viaGroup, $"{r} is not in the audience");
                if (subject.Label >= TlpLevel.Green)
                {
                    Assert.True(manifest.IsCommunityMember(r), $"{r} is outside the community");
                }
                if (subject.Label >= TlpLevel.Amber)
                {
                    Assert.Contains(manifest.Agreements, a => a.Binds(subject.Origin, r) && a.InForceAt(Now) && a.MaxLabel >= subject.Label && a.Covers(subject.RiskDomain));
                }
                if (subject.Label >= TlpLevel.AmberStrict)
                {
                    Assert.True(direct, $"{r} was not named directly");
                    Assert.True(decision.NoRedistribution);
                }
                Assert.Equal(subject.EmbargoUntil is not null, decision.Outcome == DisclosureOutcome.Scheduled);
            }
        }, iter: 400);
    }

    [Fact]
    public void Red_and_amber_strict_never_reach_an_institute_that_was_not_named_directly()
    {
        Scenarios.Sample(s =>
        {
            var policy = new DisclosurePolicy(s.Manifest());
            foreach (var label in new[] { TlpLevel.AmberStrict, TlpLevel.Red })
            {
                var subject = s.Subject(label);
                Assert.All(policy.Decide(subject, Now).Where(d => d.Permits), d => Assert.Contains(d.InstituteId, subject.Institutes));
            }
        }, iter: 400);
    }

    [Fact]
    public void Decisions_are_deterministic()
    {
        Scenarios.Sample(s =>
        {
            var once = new DisclosurePolicy(s.Manifest()).Decide(s.Subject(), Now).Select(PolicyTableTests.Describe);
            var again = new DisclosurePolicy(s.Manifest()).Decide(s.Subject(), Now).Select(PolicyTableTests.Describe);
            Assert.Equal(once, again);
        }, iter: 200);
    }

    [Fact]
    public void Raising_the_label_never_adds_a_recipient()
    {
        Scenarios.Sample(s =>
        {
            var policy = new DisclosurePolicy(s.Manifest());
            HashSet<string>? lower = null;
            foreach (var label in new[] { TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red })
            {
                var recipients = policy.Decide(s.Subject(label), Now).Where(d => d.Permits).Select(d => d.InstituteId).ToHashSet();
                if (lower is not null)
                {
                    Assert.True(recipients.IsSubsetOf(lower), $"{label} reaches {string.Join(",", recipients.Except(lower))} that the label below did not");
                }
                lower = recipients;
            }
        }, iter: 400);
    }

    [Fact]
    public void Removing_an_agreement_never_adds_a_recipient()
    {
        Scenarios.Where(s => s.Agreements.Length > 0).Sample(s =>
        {
            var all = new DisclosurePolicy(s.Manifest()).Decide(s.Subject(), Now).Where(d => d.Permits).Select(d => d.InstituteId).ToHashSet();
            for (var k = 0; k < s.Agreements.Length; k++)
            {
                var fewer = s.Agreements.Where((_, j) => j != k);
                var recipients = new DisclosurePolicy(s.Manifest(fewer)).Decide(s.Subject(), Now).Where(d => d.Permits).Select(d => d.InstituteId);
                Assert.Subset(all, recipients.ToHashSet());
            }
        }, iter: 150);
    }

    [Fact]
    public void Every_institute_but_the_origin_gets_exactly_one_decision_with_a_reason()
    {
        Scenarios.Sample(s =>
        {
            var decisions = new DisclosurePolicy(s.Manifest()).Decide(s.Subject(), Now);
            Assert.Equal(Enumerable.Range(0, s.Count).Where(i => i != s.Origin).Select(s.Id), decisions.Select(d => d.InstituteId));
            Assert.All(decisions, d => Assert.NotEmpty(d.Reasons));
        }, iter: 200);
    }
}

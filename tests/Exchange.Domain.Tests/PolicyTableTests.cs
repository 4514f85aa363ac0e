using System.Text.Json.Nodes;
using Exchange.Domain.Network;
using Exchange.Domain.Policy;
using Exchange.V1;
using static Exchange.Domain.Tests.ManifestText;

namespace Exchange.Domain.Tests;

/// <summary>
/// The DESIGN.md rules as a table: label × how the recipient is named × the state of the
/// agreement between origin "o" and recipient "r". The finding is about cyber.
/// </summary>
public sealed class PolicyTableTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly TlpLevel[] Labels = [TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red];

    private static NetworkManifest Manifest(string agreementState, string recipient = "r")
    {
        var agreements = new List<JsonObject>();
        var (lastYear, nextYear) = (Now.AddYears(-1), Now.AddYears(1));
        var parties = new[] { "o", recipient };
        switch (agreementState)
        {
            case "none":
                break;
            case "red": agreements.Add(Agreement("a", parties, "RED", [], lastYear, nextYear)); break;
            case "strict": agreements.Add(Agreement("a", parties, "AMBER+STRICT", [], lastYear, nextYear)); break;
            case "amber": agreements.Add(Agreement("a", parties, "AMBER", [], lastYear, nextYear)); break;
            case "green": agreements.Add(Agreement("a", parties, "GREEN", [], lastYear, nextYear)); break;
            case "red-cyber": agreements.Add(Agreement("a", parties, "RED", ["cyber"], lastYear, nextYear)); break;
            case "red-other-domain": agreements.Add(Agreement("a", parties, "RED", ["chem-bio", "autonomy"], lastYear, nextYear)); break;
            case "starts-tomorrow": agreements.Add(Agreement("a", parties, "RED", [], Now.AddDays(1), nextYear)); break;
            case "ended-yesterday": agreements.Add(Agreement("a", parties, "RED", [], lastYear, Now.AddDays(-1))); break;
            default: throw new ArgumentOutOfRangeException(nameof(agreementState));
        }
        var document = Document(
            [Institute("o", 0), Institute("r", 1), Institute("x", 2), Institute("b", 3)],
            // "x" is not in the community; "grp" holds the origin itself as well as both recipients.
            [Group("network", "o", "r", "b"), Group("grp", "o", "r", "x")],
            agreements);
        return ManifestLoader.Load(Bytes(document));
    }

    private static DisclosureSubject Subject(TlpLevel label, string audience, string recipient = "r") => new(
        "o", label, RiskDomain.Cyber,
        audience is "direct" or "direct+group" ? [recipient] : [],
        audience is "group" or "direct+group" ? ["grp"] : []);

    public static TheoryData<string, string, string> Table => new()
    {
        // agreement o–r       audience        CLEAR GREEN AMBER STRICT RED (A allow, D deny)
        { "none",              "not-named",    "DDDDD" },
        { "red",               "not-named",    "DDDDD" },
        { "none",              "direct",       "AADDD" },
        { "none",              "group",        "AADDD" },
        { "red",               "direct",       "AAAAA" },
        { "red",               "group",        "AAADD" },
        { "red",               "direct+group", "AAAAA" },
        { "strict",            "direct",       "AAAAD" },
        { "strict",            "group",        "AAADD" },
        { "amber",             "direct",       "AAADD" },
        { "amber",             "group",        "AAADD" },
        { "green",             "direct",       "AADDD" },
        { "red-cyber",         "direct",       "AAAAA" },
        { "red-cyber",         "group",        "AAADD" },
        { "red-other-domain",  "direct",       "AADDD" },
        { "starts-tomorrow",   "direct",       "AADDD" },
        { "ended-yesterday",   "direct",       "AADDD" },
        { "ended-yesterday",   "group",        "AADDD" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Each_label_reaches_the_recipient_exactly_as_the_rules_say(string agreementState, string audience, string expected)
    {
        var policy = new DisclosurePolicy(Manifest(agreementState));
        var actual = string.Concat(Labels.Select(label =>
            policy.Decide(Subject(label, audience), Now).Single(d => d.InstituteId == "r").Permits ? 'A' : 'D'));
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("red")]
    public void An_institute_outside_the_community_gets_only_clear(string agreementState)
    {
        var policy = new DisclosurePolicy(Manifest(agreementState, recipient: "x"));
        var actual = string.Concat(Labels.Select(label =>
            policy.Decide(Subject(label, "direct", recipient: "x"), Now).Single(d => d.InstituteId == "x").Permits ? 'A' : 'D'));
        Assert.Equal("ADDDD", actual);
        Assert.Equal(Reasons.DenyNotCommunityMember, policy.Decide(Subject(TlpLevel.Green, "direct", "x"), Now).Single(d => d.InstituteId == "x").Reasons.Single().Code);
    }

    [Theory]
    [InlineData("none", "direct", TlpLevel.Amber, Reasons.DenyNoAgreement)]
    [InlineData("starts-tomorrow", "direct", TlpLevel.Amber, Reasons.DenyAgreementNotYetValid)]
    [InlineData("ended-yesterday", "direct", TlpLevel.Amber, Reasons.DenyAgreementEnded)]
    [InlineData("red-other-domain", "direct", TlpLevel.Amber, Reasons.DenyAgreementDomainNotCovered)]
    [InlineData("amber", "direct", TlpLevel.Red, Reasons.DenyAgreementLabelTooLow)]
    [InlineData("red", "group", TlpLevel.Red, Reasons.DenyNamedThroughGroupOnly)]
    [InlineData("red", "group", TlpLevel.AmberStrict, Reasons.DenyNamedThroughGroupOnly)]
    [InlineData("red", "not-named", TlpLevel.Clear, Reasons.DenyNotInAudience)]
    [InlineData("none", "direct", TlpLevel.Clear, Reasons.AllowAudience)]
    [InlineData("none", "group", TlpLevel.Green, Reasons.AllowCommunity)]
    [InlineData("red", "group", TlpLevel.Amber, Reasons.AllowAgreement)]
    public void Every_decision_says_why(string agreementState, string audience, TlpLevel label, string code)
    {
        var decision = new DisclosurePolicy(Manifest(agreementState)).Decide(Subject(label, audience), Now).Single(d => d.InstituteId == "r");
        var reason = Assert.Single(decision.Reasons);
        Assert.Equal(code, reason.Code);
        Assert.Equal(Reasons.RuleFor(label), reason.Rule);
        Assert.False(string.IsNullOrWhiteSpace(reason.Detail));
        Assert.Equal(agreementState == "none" || code.Contains("audience") || code.Contains("community") || code.Contains("group") ? null : "a", reason.AgreementId);
    }

    [Fact]
    public void The_origin_never_sends_to_itself_even_through_its_own_group()
    {
        var decisions = new DisclosurePolicy(Manifest("red")).Decide(Subject(TlpLevel.Clear, "group"), Now);
        Assert.DoesNotContain(decisions, d => d.InstituteId == "o");
        Assert.Equal(["r", "x", "b"], decisions.Select(d => d.InstituteId));
    }

    [Fact]
    public void A_withdrawn_finding_goes_nowhere()
    {
        var subject = Subject(TlpLevel.Clear, "direct+group") with { Withdrawn = true };
        var decisions = new DisclosurePolicy(Manifest("red")).Decide(subject, Now);
        Assert.All(decisions, d => Assert.Equal(Reasons.DenyWithdrawn, d.Reasons.Single().Code));
        Assert.DoesNotContain(decisions, d => d.Permits);
    }

    [Fact]
    public void An_unlabelled_finding_goes_nowhere()
    {
        var decisions = new DisclosurePolicy(Manifest("red")).Decide(Subject(TlpLevel.Unspecified, "direct"), Now);
        Assert.All(decisions, d => Assert.Equal(Reasons.DenyUnlabelled, d.Reasons.Single().Code));
    }

    [Fact]
    public void An_embargoed_finding_is_scheduled_for_the_end_of_the_embargo_and_a_past_embargo_changes_nothing()
    {
        var policy = new DisclosurePolicy(Manifest("red"));
        var until = Now.AddDays(30);

        var held = policy.Decide(Subject(TlpLevel.Amber, "direct") with { EmbargoUntil = until }, Now).Single(d => d.InstituteId == "r");
        var lifted = policy.Decide(Subject(TlpLevel.Amber, "direct") with { EmbargoUntil = Now.AddDays(-1) }, Now).Single(d => d.InstituteId == "r");
        var deniedAnyway = policy.Decide(Subject(TlpLevel.Amber, "not-named") with { EmbargoUntil = until }, Now).Single(d => d.InstituteId == "r");

        Assert.Equal(DisclosureOutcome.Scheduled, held.Outcome);
        Assert.Equal(until, held.ScheduledAt);
        Assert.Contains(held.Reasons, r => r.Code == Reasons.ScheduledEmbargo);
        Assert.Contains(held.Reasons, r => r.Code == Reasons.AllowAgreement);
        Assert.Equal(DisclosureOutcome.Allow, lifted.Outcome);
        Assert.Equal(DisclosureOutcome.Deny, deniedAnyway.Outcome);
    }

    [Theory]
    [InlineData(TlpLevel.Amber, false, false)]
    [InlineData(TlpLevel.Amber, true, true)]
    [InlineData(TlpLevel.AmberStrict, false, true)]
    [InlineData(TlpLevel.Red, false, true)]
    public void No_redistribution_is_carried_to_the_recipient_and_forced_for_strict_and_red(TlpLevel label, bool asked, bool carried)
    {
        var decision = new DisclosurePolicy(Manifest("red")).Decide(Subject(label, "direct") with { NoRedistribution = asked }, Now).Single(d => d.InstituteId == "r");
        Assert.True(decision.Permits);
        Assert.Equal(carried, decision.NoRedistribution);
    }

    [Fact]
    public void A_receiver_rechecks_one_recipient_with_the_same_answer()
    {
        var policy = new DisclosurePolicy(Manifest("strict"));
        foreach (var label in Labels)
        {
            foreach (var audience in new[] { "not-named", "direct", "group" })
            {
                var subject = Subject(label, audience);
                Assert.Equal(Describe(policy.Decide(subject, Now).Single(d => d.InstituteId == "r")), Describe(policy.DecideFor(subject, "r", Now)));
            }
        }
        Assert.False(policy.DecideFor(Subject(TlpLevel.Clear, "direct"), "o", Now).Permits);
        Assert.False(policy.DecideFor(Subject(TlpLevel.Clear, "direct"), "stranger", Now).Permits);
    }

    [Fact]
    public void An_origin_missing_from_the_manifest_reaches_no_one()
    {
        var decisions = new DisclosurePolicy(Manifest("red")).Decide(Subject(TlpLevel.Clear, "direct") with { Origin = "ghost" }, Now);
        Assert.All(decisions, d => Assert.Equal(Reasons.DenyUnknownOrigin, d.Reasons.Single().Code));
    }

    internal static string Describe(PolicyDecision d) =>
        $"{d.InstituteId} {d.Outcome} {d.ScheduledAt:O} {d.NoRedistribution} " + string.Join(",", d.Reasons.Select(r => $"{r.Code}/{r.Rule}/{r.AgreementId}/{r.Detail}"));
}

using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CsCheck;
using Exchange.Domain.Network;
using Exchange.Domain.Policy;
using Exchange.V1;
using static Exchange.Domain.Tests.ManifestText;

namespace Exchange.Domain.Tests;

public sealed class ManifestLoaderTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset LastYear = Now.AddYears(-1);
    private static readonly DateTimeOffset NextYear = Now.AddYears(1);

    private static JsonObject Valid() => Document(
        [Institute("uk", 0), Institute("us", 1), Institute("jp", 2)],
        [Group("network", "uk", "us", "jp"), Group("pair", "uk", "us")],
        [Agreement("uk-us", ["uk", "us"], "RED", [], LastYear, NextYear), Agreement("uk-jp", ["uk", "jp"], "AMBER", ["cyber"], LastYear, NextYear)]);

    private static ManifestException Invalid(JsonObject document) =>
        Assert.Throws<ManifestException>(() => ManifestLoader.Load(Bytes(document)));

    [Fact]
    public void The_sample_manifest_of_the_ten_institutes_loads()
    {
        var manifest = ManifestLoader.LoadFile("manifest.sample.json");

        Assert.Equal(["uk", "us", "jp", "sg", "ca", "kr", "fr", "eu", "au", "ke"], manifest.Institutes.Select(i => i.Id));
        Assert.All(manifest.Institutes, i => Assert.True(manifest.IsCommunityMember(i.Id)));
        Assert.Contains(manifest.Agreements, a => a.MaxLabel == TlpLevel.Red);
        Assert.Contains(manifest.Agreements, a => a.MaxLabel == TlpLevel.Green);
        Assert.Contains(manifest.Agreements, a => a.RiskDomains.Count == 1);
        Assert.Contains(manifest.Agreements, a => a.ValidFrom > Now);
    }

    [Fact]
    public void A_valid_manifest_loads_with_its_entries()
    {
        var manifest = ManifestLoader.Load(Bytes(Valid()));

        Assert.Equal(3, manifest.Institutes.Count);
        Assert.Equal(["uk", "us"], manifest.GroupsById["pair"].Members);
        Assert.Equal([RiskDomain.Cyber], manifest.Agreements.Single(a => a.Id == "uk-jp").RiskDomains);
        Assert.Equal(64, manifest.Sha256.Length);
    }

    [Fact]
    public void An_unknown_institute_in_a_group_is_named()
    {
        var document = Valid();
        ((JsonArray)document["groups"]!).Add(Group("g7", "uk", "atlantis"));
        var e = Invalid(document);
        Assert.Contains(e.Errors, m => m.Contains("group 'g7'") && m.Contains("'atlantis'"));
    }

    [Fact]
    public void An_agreement_with_itself_is_named()
    {
        var document = Valid();
        ((JsonArray)document["agreements"]!).Add(Agreement("narcissus", ["jp", "jp"], "RED", [], LastYear, NextYear));
        Assert.Contains(Invalid(document).Errors, m => m.Contains("agreement 'narcissus'") && m.Contains("with itself"));
    }

    [Fact]
    public void Overlapping_agreements_for_one_pair_are_named()
    {
        var document = Valid();
        ((JsonArray)document["agreements"]!).Add(Agreement("uk-us-cyber", ["us", "uk"], "AMBER", ["cyber"], Now, NextYear.AddYears(1)));
        Assert.Contains(Invalid(document).Errors, m => m.Contains("agreement 'uk-us-cyber'") && m.Contains("overlaps agreement 'uk-us'"));
    }

    [Fact]
    public void Agreements_for_one_pair_may_follow_each_other_or_cover_other_domains()
    {
        var document = Valid();
        ((JsonArray)document["agreements"]!).Add(Agreement("uk-us-next", ["uk", "us"], "AMBER", [], NextYear, NextYear.AddYears(2)));
        ((JsonArray)document["agreements"]!).Add(Agreement("uk-jp-bio", ["uk", "jp"], "RED", ["chem-bio"], LastYear, NextYear));
        Assert.Equal(4, ManifestLoader.Load(Bytes(document)).Agreements.Count);
    }

    // An ended agreement is a fact of the calendar, not a fault of the file: a manifest that loads
    // loads on every date, and the policy, not the loader, says what the date means. Generated over
    // agreement windows before, around and after the day of the decision.
    [Fact]
    public void An_agreement_loads_whatever_its_dates_and_the_policy_denies_by_it_once_ended_naming_it_and_the_date()
    {
        Gen.Select(Gen.Int[-3000, 3000], Gen.Int[1, 3000]).Sample((startDay, days) =>
        {
            var from = Now.AddDays(startDay);
            var to = from.AddDays(days);
            var document = Document(
                [Institute("uk", 0), Institute("us", 1)], [Group("network", "uk", "us")],
                [Agreement("uk-us-mou", ["uk", "us"], "RED", [], from, to)]);

            var manifest = ManifestLoader.Load(Bytes(document));

            var decision = new DisclosurePolicy(manifest).DecideFor(new DisclosureSubject("uk", TlpLevel.Amber, RiskDomain.Cyber, ["us"], []), "us", Now);
            var reason = decision.Reasons[0];
            if (to <= Now)
            {
                Assert.True(manifest.Agreements.Single().HasEndedAt(Now));
                Assert.Equal(DisclosureOutcome.Deny, decision.Outcome);
                Assert.Equal((Reasons.DenyAgreementEnded, "uk-us-mou"), (reason.Code, reason.AgreementId));
                Assert.Contains($"ended on {to:yyyy-MM-dd}", reason.Detail);
            }
            else if (from > Now)
            {
                Assert.Equal((DisclosureOutcome.Deny, Reasons.DenyAgreementNotYetValid), (decision.Outcome, reason.Code));
            }
            else
            {
                Assert.Equal((DisclosureOutcome.Allow, Reasons.AllowAgreement), (decision.Outcome, reason.Code));
            }
        }, iter: 500);
    }

    [Fact]
    public void Bad_keys_are_named_with_what_is_wrong()
    {
        var document = Valid();
        var institutes = (JsonArray)document["institutes"]!;
        institutes[0]!["signingKey"] = "not base64!";
        institutes[1]!["encryptionKey"] = Convert.ToBase64String([1, 2, 3, 4]);
        institutes[2]!["signingKey"] = Convert.ToBase64String(ECDsa.Create(ECCurve.NamedCurves.nistP384).ExportSubjectPublicKeyInfo());

        var errors = Invalid(document).Errors;

        Assert.Contains(errors, m => m.Contains("institute 'uk'") && m.Contains("signingKey is not base64"));
        Assert.Contains(errors, m => m.Contains("institute 'us'") && m.Contains("encryptionKey is not a P-256 public key"));
        Assert.Contains(errors, m => m.Contains("institute 'jp'") && m.Contains("not P-256"));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var document = Valid();
        ((JsonArray)document["institutes"]!).Add(Institute("uk", 3));
        ((JsonArray)document["groups"]!).Add(Group("empty"));
        ((JsonArray)document["agreements"]!).Add(Agreement("bad-label", ["us", "jp"], "PURPLE", ["cyber", "astrology"], LastYear, NextYear));
        document["communityGroup"] = "everyone";

        var errors = Invalid(document).Errors;

        Assert.Contains(errors, m => m.Contains("institute 'uk'") && m.Contains("used by another institute"));
        Assert.Contains(errors, m => m.Contains("group 'empty'") && m.Contains("no members"));
        Assert.Contains(errors, m => m.Contains("agreement 'bad-label'") && m.Contains("maxLabel 'PURPLE'"));
        Assert.Contains(errors, m => m.Contains("agreement 'bad-label'") && m.Contains("'astrology'"));
        Assert.Contains(errors, m => m.Contains("communityGroup") && m.Contains("'everyone'"));
    }

    [Fact]
    public void Missing_fields_and_unknown_fields_are_named()
    {
        var document = Valid();
        ((JsonObject)((JsonArray)document["institutes"]!)[0]!).Remove("brokerQueue");
        var e = Invalid(document);
        Assert.Contains(e.Errors, m => m.Contains("institute 'uk'") && m.Contains("brokerQueue is required"));

        document = Valid();
        document["agreemnts"] = new JsonArray();
        Assert.Contains(Invalid(document).Errors, m => m.Contains("agreemnts"));
    }

    [Fact]
    public void Broken_json_says_where()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.Load("{\n  \"formatVersion\": 1,\n  \"name\": \n}"u8));
        Assert.Contains("line 4", e.Errors.Single());
    }

    [Fact]
    public void A_missing_file_is_a_clear_error()
    {
        var e = Assert.Throws<ManifestException>(() => ManifestLoader.LoadFile("/nonexistent/manifest.json"));
        Assert.Contains("cannot read the manifest file '/nonexistent/manifest.json'", e.Message);
    }
}

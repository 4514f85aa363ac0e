using System.Security.Cryptography;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Exchange.Domain.Network;
using Exchange.Domain.Policy;
using Exchange.V1;

namespace Exchange.Benchmarks;

/// <summary>
/// Decisions for one finding across a whole manifest: every institute but the origin decided.
/// The finding is AMBER, addressed to a group holding half the network plus three institutes named
/// directly, so most recipients go through the agreement checks.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private DisclosurePolicy _policy = null!;
    private DisclosureSubject _amber = null!;
    private DisclosureSubject _red = null!;
    private readonly DateTimeOffset _now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Params(10, 50)]
    public int Institutes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var manifest = Manifests.Generate(Institutes, _now);
        _policy = new DisclosurePolicy(manifest);
        var half = manifest.Groups.Single(g => g.Id == "half").Id;
        _amber = new DisclosureSubject("i0", TlpLevel.Amber, RiskDomain.Cyber, ["i1", "i2", "i3"], [half]);
        _red = new DisclosureSubject("i0", TlpLevel.Red, RiskDomain.Cyber, ["i1", "i2", "i3"], [half]);
        _recipients = manifest.Institutes.Skip(1).Select(i => i.Id).ToArray();
    }

    private static readonly PolicyReason[] Reason = [new("allow.in-audience", "tlp.clear", null, "")];
    private string[] _recipients = [];

    /// <summary>The floor: only building the result, one decision per institute, with no rule evaluated.</summary>
    [Benchmark(Baseline = true)]
    public IReadOnlyList<PolicyDecision> AllocateDecisions()
    {
        var decisions = new PolicyDecision[_recipients.Length];
        for (var i = 0; i < decisions.Length; i++)
        {
            decisions[i] = new PolicyDecision(_recipients[i], DisclosureOutcome.Allow, Reason, null, false);
        }
        return decisions;
    }

    [Benchmark]
    public IReadOnlyList<PolicyDecision> DecideAmber() => _policy.Decide(_amber, _now);

    [Benchmark]
    public IReadOnlyList<PolicyDecision> DecideRed() => _policy.Decide(_red, _now);
}

internal static class Manifests
{
    /// <summary>n institutes, all in the community; agreements between i0 and every third institute, of varying strength.</summary>
    public static NetworkManifest Generate(int n, DateTimeOffset now)
    {
        string Key(bool signing) => Convert.ToBase64String(signing
            ? ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo()
            : ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo());
        var ids = Enumerable.Range(0, n).Select(i => $"i{i}").ToArray();
        var labels = new[] { "GREEN", "AMBER", "AMBER+STRICT", "RED" };
        var document = new JsonObject
        {
            ["formatVersion"] = 1,
            ["name"] = $"{n} institutes",
            ["communityGroup"] = "network",
            ["institutes"] = new JsonArray(ids.Select(id => (JsonNode)new JsonObject
            {
                ["id"] = id, ["name"] = id, ["jurisdiction"] = id, ["signingKey"] = Key(true), ["encryptionKey"] = Key(false),
                ["tokenIssuer"] = $"https://{id}.example/", ["brokerQueue"] = $"exchange.{id}.inbox",
            }).ToArray()),
            ["groups"] = new JsonArray(
                new JsonObject { ["id"] = "network", ["name"] = "network", ["members"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()) },
                new JsonObject { ["id"] = "half", ["name"] = "half", ["members"] = new JsonArray(ids.Take(n / 2).Select(i => (JsonNode)i).ToArray()) }),
            ["agreements"] = new JsonArray(Enumerable.Range(1, n - 1).Where(i => i % 3 != 0).Select(i => (JsonNode)new JsonObject
            {
                ["id"] = $"a{i}", ["parties"] = new JsonArray("i0", $"i{i}"), ["maxLabel"] = labels[i % labels.Length],
                ["riskDomains"] = i % 2 == 0 ? new JsonArray() : new JsonArray("cyber", "autonomy"),
                ["validFrom"] = now.AddYears(-1).ToString("O"), ["validTo"] = now.AddYears(2).ToString("O"),
            }).ToArray()),
        };
        return ManifestLoader.Load(System.Text.Encoding.UTF8.GetBytes(document.ToJsonString()));
    }
}

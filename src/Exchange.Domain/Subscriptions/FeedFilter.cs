using Exchange.Domain.Findings;
using Exchange.Domain.Network;
using Exchange.V1;

namespace Exchange.Domain.Subscriptions;

/// <summary>The clear facts about a finding that a subscription filters on (never its content).</summary>
public readonly record struct FeedSubject(string OriginInstitute, TlpLevel Label, RiskDomain RiskDomain, string ModelName, string ModelDeveloper);

/// <summary>
/// Which events one subscriber wants to see. What it may see is not decided here but by the node's
/// one access rule (<see cref="Access.FindingAccessRule"/>), which the feed applies as well.
/// </summary>
public sealed class FeedFilter
{
    public const int MaxModelLength = 200;

    private readonly HashSet<TlpLevel> _labels;
    private readonly HashSet<RiskDomain> _riskDomains;
    private readonly HashSet<string> _origins;
    private readonly string _model;

    private FeedFilter(HashSet<TlpLevel> labels, HashSet<RiskDomain> riskDomains, HashSet<string> origins, string model)
    {
        _labels = labels;
        _riskDomains = riskDomains;
        _origins = origins;
        _model = model;
    }

    public bool Matches(FeedSubject subject) =>
        (_labels.Count == 0 || _labels.Contains(subject.Label))
        && (_riskDomains.Count == 0 || _riskDomains.Contains(subject.RiskDomain))
        && (_origins.Count == 0 || _origins.Contains(subject.OriginInstitute))
        && (_model.Length == 0 || string.Equals(subject.ModelName, _model, StringComparison.OrdinalIgnoreCase)
            || string.Equals(subject.ModelDeveloper, _model, StringComparison.OrdinalIgnoreCase));

    /// <summary>Builds the filter of a request, or names every field that is wrong with it.</summary>
    public static FeedFilter Create(SubscribeRequest request, NetworkManifest manifest, out IReadOnlyList<FieldViolation> violations)
    {
        var problems = new List<FieldViolation>();
        for (var i = 0; i < request.Labels.Count; i++)
        {
            if (request.Labels[i] == TlpLevel.Unspecified || !Enum.IsDefined(request.Labels[i]))
            {
                problems.Add(new($"labels[{i}]", $"'{request.Labels[i]}' is not a TLP label"));
            }
        }
        for (var i = 0; i < request.RiskDomains.Count; i++)
        {
            if (request.RiskDomains[i] == RiskDomain.Unspecified || !Enum.IsDefined(request.RiskDomains[i]))
            {
                problems.Add(new($"risk_domains[{i}]", $"'{request.RiskDomains[i]}' is not a risk domain"));
            }
        }
        for (var i = 0; i < request.OriginInstitutes.Count; i++)
        {
            if (manifest.FindInstitute(request.OriginInstitutes[i]) is null)
            {
                problems.Add(new($"origin_institutes[{i}]", $"'{request.OriginInstitutes[i]}' is not an institute of the network"));
            }
        }
        if (request.Model.Length > MaxModelLength)
        {
            problems.Add(new("model", $"is {request.Model.Length} characters; the limit is {MaxModelLength}"));
        }
        violations = problems;
        return new FeedFilter([.. request.Labels], [.. request.RiskDomains], new HashSet<string>(request.OriginInstitutes, StringComparer.Ordinal), request.Model.Trim().Replace('\0', '\uFFFD'));
    }
}

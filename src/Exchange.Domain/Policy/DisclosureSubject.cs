using Exchange.V1;

namespace Exchange.Domain.Policy;

/// <summary>What the policy needs to know about a finding to decide who may receive it.</summary>
public sealed record DisclosureSubject(
    string Origin,
    TlpLevel Label,
    RiskDomain RiskDomain,
    IReadOnlyList<string> Institutes,
    IReadOnlyList<string> Groups,
    DateTimeOffset? EmbargoUntil = null,
    bool NoRedistribution = false,
    bool Withdrawn = false)
{
    public static DisclosureSubject From(string origin, Label? label, AccessPolicy? policy, FindingContent? content, bool withdrawn = false) =>
        new(
            origin,
            label?.Level ?? TlpLevel.Unspecified,
            content?.Evaluation?.RiskDomain ?? RiskDomain.Unspecified,
            policy?.RecipientInstitutes ?? (IReadOnlyList<string>)[],
            policy?.RecipientGroups ?? (IReadOnlyList<string>)[],
            policy?.EmbargoUntil?.ToDateTimeOffset(),
            policy?.NoRedistribution ?? false,
            withdrawn);

    public static DisclosureSubject From(Finding finding) =>
        From(finding.OriginInstitute, finding.Label, finding.Policy, finding.Content, finding.State == FindingState.Withdrawn);
}

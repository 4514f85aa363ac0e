using Exchange.Domain;
using Exchange.V1;

namespace Exchange.Cli.Commands;

/// <summary>The --label and --risk-domain values that list and subscribe filter on.</summary>
internal static class FilterValues
{
    public static IEnumerable<TlpLevel> Labels(IEnumerable<string>? names) =>
        (names ?? []).Select(name => Vocabulary.TryParseLabel(name, out var level) ? level
            : throw new CliException($"--label: '{name}' is not one of {string.Join(", ", Vocabulary.LabelNames)}", ExitCodes.Usage));

    public static IEnumerable<RiskDomain> RiskDomains(IEnumerable<string>? names) =>
        (names ?? []).Select(name => Vocabulary.TryParseRiskDomain(name, out var domain) ? domain
            : throw new CliException($"--risk-domain: '{name}' is not one of {string.Join(", ", Vocabulary.RiskDomainNames)}", ExitCodes.Usage));
}

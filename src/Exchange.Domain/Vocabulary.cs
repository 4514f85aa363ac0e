using Exchange.V1;

namespace Exchange.Domain;

/// <summary>The words people and files use for labels and risk domains, and back.</summary>
public static class Vocabulary
{
    private static readonly Dictionary<string, TlpLevel> LabelsByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CLEAR"] = TlpLevel.Clear,
        ["GREEN"] = TlpLevel.Green,
        ["AMBER"] = TlpLevel.Amber,
        ["AMBER+STRICT"] = TlpLevel.AmberStrict,
        ["AMBER_STRICT"] = TlpLevel.AmberStrict,
        ["RED"] = TlpLevel.Red,
    };

    private static readonly Dictionary<string, RiskDomain> DomainsByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cyber"] = RiskDomain.Cyber,
        ["chem-bio"] = RiskDomain.ChemBio,
        ["autonomy"] = RiskDomain.Autonomy,
        ["societal"] = RiskDomain.Societal,
        ["safeguards"] = RiskDomain.Safeguards,
        ["general-knowledge"] = RiskDomain.GeneralKnowledge,
        ["hallucination"] = RiskDomain.Hallucination,
        ["multilingual"] = RiskDomain.Multilingual,
        ["other"] = RiskDomain.Other,
    };

    public static IEnumerable<string> LabelNames => ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

    public static IEnumerable<string> RiskDomainNames => DomainsByName.Keys;

    public static bool TryParseLabel(string? text, out TlpLevel level)
    {
        level = TlpLevel.Unspecified;
        return text is not null && LabelsByName.TryGetValue(text.Trim(), out level);
    }

    public static bool TryParseRiskDomain(string? text, out RiskDomain domain)
    {
        domain = RiskDomain.Unspecified;
        return text is not null && DomainsByName.TryGetValue(text.Trim().Replace('_', '-'), out domain);
    }

    public static string Name(this TlpLevel level) => level switch
    {
        TlpLevel.Clear => "CLEAR",
        TlpLevel.Green => "GREEN",
        TlpLevel.Amber => "AMBER",
        TlpLevel.AmberStrict => "AMBER+STRICT",
        TlpLevel.Red => "RED",
        _ => "UNLABELLED",
    };

    public static string Name(this RiskDomain domain) =>
        DomainsByName.FirstOrDefault(p => p.Value == domain).Key ?? "unspecified";

    /// <summary>AMBER and above are classified: reads are audited and delivery needs an agreement.</summary>
    public static bool IsClassified(this TlpLevel level) => level >= TlpLevel.Amber;
}

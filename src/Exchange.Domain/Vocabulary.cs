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

    private static readonly Dictionary<string, EvaluationMethod> MethodsByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["automated-capability"] = EvaluationMethod.AutomatedCapability,
        ["red-teaming"] = EvaluationMethod.RedTeaming,
        ["human-uplift"] = EvaluationMethod.HumanUplift,
        ["agent"] = EvaluationMethod.Agent,
        ["other"] = EvaluationMethod.Other,
    };

    private static readonly Dictionary<string, ModelStage> StagesByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pre-deployment"] = ModelStage.PreDeployment,
        ["deployed"] = ModelStage.Deployed,
        ["open-weights"] = ModelStage.OpenWeights,
    };

    private static readonly Dictionary<string, Severity> SeveritiesByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["informational"] = Severity.Informational,
        ["low"] = Severity.Low,
        ["medium"] = Severity.Medium,
        ["high"] = Severity.High,
        ["critical"] = Severity.Critical,
    };

    public static IEnumerable<string> MethodNames => MethodsByName.Keys;
    public static IEnumerable<string> StageNames => StagesByName.Keys;
    public static IEnumerable<string> SeverityNames => SeveritiesByName.Keys;

    public static bool TryParseMethod(string? text, out EvaluationMethod method) => TryParse(MethodsByName, text, out method);
    public static bool TryParseStage(string? text, out ModelStage stage) => TryParse(StagesByName, text, out stage);
    public static bool TryParseSeverity(string? text, out Severity severity) => TryParse(SeveritiesByName, text, out severity);

    private static bool TryParse<T>(Dictionary<string, T> names, string? text, out T value) where T : struct
    {
        value = default;
        return text is not null && names.TryGetValue(text.Trim().Replace('_', '-'), out value);
    }

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

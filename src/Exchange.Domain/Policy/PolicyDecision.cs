using Exchange.V1;

namespace Exchange.Domain.Policy;

/// <summary>A machine-readable reason: the code, the rule of the policy table, the agreement involved.</summary>
public sealed record PolicyReason(string Code, string Rule, string? AgreementId, string Detail);

public sealed record PolicyDecision(
    string InstituteId,
    DisclosureOutcome Outcome,
    IReadOnlyList<PolicyReason> Reasons,
    DateTimeOffset? ScheduledAt,
    bool NoRedistribution)
{
    /// <summary>Allowed now or when the embargo lifts.</summary>
    public bool Permits => Outcome is DisclosureOutcome.Allow or DisclosureOutcome.Scheduled;
}

using Exchange.V1;

namespace Exchange.Domain.Policy;

/// <summary>The reason codes the policy gives. Codes are stable: tools and the audit log key on them.</summary>
public static class Reasons
{
    public static string RuleFor(TlpLevel label) => label switch
    {
        TlpLevel.Clear => "tlp.clear",
        TlpLevel.Green => "tlp.green",
        TlpLevel.Amber => "tlp.amber",
        TlpLevel.AmberStrict => "tlp.amber-strict",
        TlpLevel.Red => "tlp.red",
        _ => "default-deny",
    };

    public const string AllowAudience = "allow.in-audience";
    public const string AllowCommunity = "allow.community-member";
    public const string AllowAgreement = "allow.agreement";
    public const string ScheduledEmbargo = "scheduled.embargo";
    public const string DenyWithdrawn = "deny.withdrawn";
    public const string DenyUnlabelled = "deny.unlabelled";
    public const string DenyUnknownOrigin = "deny.unknown-origin";
    public const string DenyNotInAudience = "deny.not-in-audience";
    public const string DenyNotCommunityMember = "deny.not-community-member";
    public const string DenyNamedThroughGroupOnly = "deny.named-through-group-only";
    public const string DenyNoAgreement = "deny.no-agreement";
    public const string DenyAgreementNotYetValid = "deny.agreement-not-yet-in-force";
    public const string DenyAgreementEnded = "deny.agreement-ended";
    public const string DenyAgreementLabelTooLow = "deny.agreement-label-too-low";
    public const string DenyAgreementDomainNotCovered = "deny.agreement-domain-not-covered";
}

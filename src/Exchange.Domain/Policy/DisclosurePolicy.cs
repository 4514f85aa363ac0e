using Exchange.Domain.Network;
using Exchange.V1;

namespace Exchange.Domain.Policy;

/// <summary>
/// Decides, for every institute of the manifest but the origin, whether a finding may reach it:
/// allow, deny or scheduled (embargo). Default deny; every decision carries its reasons.
/// The rules (DESIGN.md): CLEAR reaches the audience; GREEN the audience inside the community;
/// AMBER the community members of the audience named directly or through a group, each with an
/// agreement allowing AMBER for the risk domain; AMBER+STRICT and RED only community members named
/// directly, with an agreement allowing that label. Each level demands everything the one below it
/// does, so raising a label never adds a recipient.
/// </summary>
public sealed class DisclosurePolicy
{
    private const byte NotInAudience = 0;
    private const byte ThroughGroup = 1;
    private const byte NamedDirectly = 2;

    private readonly string[] _ids;
    private readonly Dictionary<string, int> _indexById;
    private readonly bool[] _community;
    private readonly Dictionary<string, int[]> _groupMembers;
    // Agreements binding each ordered pair (origin * n + recipient); empty when there are none.
    private readonly AgreementRule[][] _agreementsByPair;

    public DisclosurePolicy(NetworkManifest manifest)
    {
        Manifest = manifest;
        _ids = manifest.Institutes.Select(i => i.Id).ToArray();
        _indexById = _ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        _community = _ids.Select(manifest.IsCommunityMember).ToArray();
        _groupMembers = manifest.Groups.ToDictionary(g => g.Id, g => g.Members.Select(m => _indexById[m]).ToArray(), StringComparer.Ordinal);
        var n = _ids.Length;
        var pairs = new List<AgreementRule>[n * n];
        foreach (var agreement in manifest.Agreements)
        {
            var rule = new AgreementRule(agreement);
            foreach (var a in agreement.Parties)
            {
                foreach (var b in agreement.Parties.Where(b => b != a))
                {
                    (pairs[_indexById[a] * n + _indexById[b]] ??= []).Add(rule);
                }
            }
        }
        _agreementsByPair = pairs.Select(p => p?.ToArray() ?? []).ToArray();
    }

    public NetworkManifest Manifest { get; }

    /// <summary>One decision per institute other than the origin, in manifest order.</summary>
    public IReadOnlyList<PolicyDecision> Decide(DisclosureSubject subject, DateTimeOffset now)
    {
        var n = _ids.Length;
        if (!_indexById.TryGetValue(subject.Origin, out var origin))
        {
            return _ids.Select(id => Deny(id, subject, Fixed.UnknownOrigin)).ToArray();
        }
        Span<byte> audience = n <= 256 ? stackalloc byte[n] : new byte[n];
        MarkAudience(subject, audience);
        var decisions = new PolicyDecision[n - 1];
        var k = 0;
        for (var r = 0; r < n; r++)
        {
            if (r != origin)
            {
                decisions[k++] = DecideOne(subject, origin, r, audience[r], now);
            }
        }
        return decisions;
    }

    /// <summary>The decision for one recipient: what a receiving node re-checks with its own manifest.</summary>
    public PolicyDecision DecideFor(DisclosureSubject subject, string recipient, DateTimeOffset now)
    {
        if (!_indexById.TryGetValue(recipient, out var r))
        {
            return Deny(recipient, subject, Fixed.NotInAudience(subject.Label));
        }
        if (!_indexById.TryGetValue(subject.Origin, out var origin) || origin == r)
        {
            return Deny(recipient, subject, Fixed.UnknownOrigin);
        }
        Span<byte> audience = _ids.Length <= 256 ? stackalloc byte[_ids.Length] : new byte[_ids.Length];
        MarkAudience(subject, audience);
        return DecideOne(subject, origin, r, audience[r], now);
    }

    private void MarkAudience(DisclosureSubject subject, Span<byte> audience)
    {
        foreach (var group in subject.Groups)
        {
            if (_groupMembers.TryGetValue(group, out var members))
            {
                foreach (var m in members)
                {
                    audience[m] = ThroughGroup;
                }
            }
        }
        foreach (var id in subject.Institutes)
        {
            if (_indexById.TryGetValue(id, out var i))
            {
                audience[i] = NamedDirectly;
            }
        }
    }

    private PolicyDecision DecideOne(DisclosureSubject subject, int origin, int r, byte audience, DateTimeOffset now)
    {
        var id = _ids[r];
        var label = subject.Label;
        if (subject.Withdrawn)
        {
            return Deny(id, subject, Fixed.Withdrawn);
        }
        if (label is TlpLevel.Unspecified || !Enum.IsDefined(label))
        {
            return Deny(id, subject, Fixed.Unlabelled);
        }
        if (audience == NotInAudience)
        {
            return Deny(id, subject, Fixed.NotInAudience(label));
        }
        if (label == TlpLevel.Clear)
        {
            return Allow(id, subject, Fixed.InAudience, now);
        }
        if (!_community[r])
        {
            return Deny(id, subject, Fixed.NotCommunityMember(label));
        }
        if (label == TlpLevel.Green)
        {
            return Allow(id, subject, Fixed.CommunityMember, now);
        }
        if (label >= TlpLevel.AmberStrict && audience != NamedDirectly)
        {
            return Deny(id, subject, Fixed.NamedThroughGroupOnly(label));
        }
        var agreements = _agreementsByPair[origin * _ids.Length + r];
        if (agreements.Length == 0)
        {
            return Deny(id, subject, Fixed.NoAgreement(label));
        }
        var ticks = now.UtcTicks;
        foreach (var agreement in agreements)
        {
            if (agreement.Allows(label, subject.RiskDomain, ticks))
            {
                return Allow(id, subject, agreement.AllowedFor(label), now);
            }
        }
        var reasons = new PolicyReason[agreements.Length];
        for (var i = 0; i < agreements.Length; i++)
        {
            reasons[i] = agreements[i].WhyNot(label, subject.RiskDomain, ticks);
        }
        return new PolicyDecision(id, DisclosureOutcome.Deny, reasons, null, false);
    }

    private static PolicyDecision Allow(string id, DisclosureSubject subject, PolicyReason[] reasons, DateTimeOffset now)
    {
        // AMBER+STRICT is for the recipient organisation only and RED for named people only:
        // neither may travel further, whatever the submitter ticked.
        var noRedistribution = subject.NoRedistribution || subject.Label >= TlpLevel.AmberStrict;
        if (subject.EmbargoUntil is { } until && until > now)
        {
            return new PolicyDecision(id, DisclosureOutcome.Scheduled, [.. reasons, Fixed.Embargo], until, noRedistribution);
        }
        return new PolicyDecision(id, DisclosureOutcome.Allow, reasons, null, noRedistribution);
    }

    private static PolicyDecision Deny(string id, DisclosureSubject subject, PolicyReason[] reasons) =>
        new(id, DisclosureOutcome.Deny, reasons, null, false);

    private sealed class AgreementRule
    {
        private readonly AgreementEntry _entry;
        private readonly uint _domainMask;
        private readonly long _fromTicks;
        private readonly long _toTicks;
        private readonly PolicyReason[][] _allowedByLabel;

        public AgreementRule(AgreementEntry entry)
        {
            _entry = entry;
            _domainMask = entry.CoversAllDomains ? uint.MaxValue : entry.RiskDomains.Aggregate(0u, (m, d) => m | (1u << (int)d));
            _fromTicks = entry.ValidFrom.UtcTicks;
            _toTicks = entry.ValidTo.UtcTicks;
            _allowedByLabel = Enum.GetValues<TlpLevel>()
                .Select(l => new[] { new PolicyReason(Reasons.AllowAgreement, Reasons.RuleFor(l), entry.Id, $"agreement '{entry.Id}' allows {l.Name()} for this risk domain") })
                .ToArray();
        }

        public bool Allows(TlpLevel label, RiskDomain domain, long ticks) =>
            _fromTicks <= ticks && ticks < _toTicks && label <= _entry.MaxLabel && Covers(domain);

        public PolicyReason[] AllowedFor(TlpLevel label) => _allowedByLabel[(int)label];

        public PolicyReason WhyNot(TlpLevel label, RiskDomain domain, long ticks)
        {
            var rule = Reasons.RuleFor(label);
            if (ticks < _fromTicks)
            {
                return new(Reasons.DenyAgreementNotYetValid, rule, _entry.Id, $"agreement '{_entry.Id}' comes into force on {_entry.ValidFrom:yyyy-MM-dd}");
            }
            if (ticks >= _toTicks)
            {
                return new(Reasons.DenyAgreementEnded, rule, _entry.Id, $"agreement '{_entry.Id}' ended on {_entry.ValidTo:yyyy-MM-dd}");
            }
            if (label > _entry.MaxLabel)
            {
                return new(Reasons.DenyAgreementLabelTooLow, rule, _entry.Id, $"agreement '{_entry.Id}' allows up to {_entry.MaxLabel.Name()}, not {label.Name()}");
            }
            return new(Reasons.DenyAgreementDomainNotCovered, rule, _entry.Id, $"agreement '{_entry.Id}' does not cover the risk domain {domain.Name()}");
        }

        private bool Covers(RiskDomain domain) =>
            domain != RiskDomain.Unspecified && (int)domain < 32 && (_domainMask & (1u << (int)domain)) != 0;
    }

    // Reasons without an agreement in them are the same every time: allocate them once.
    private static class Fixed
    {
        private static readonly PolicyReason[][] NotInAudienceByLabel = ByLabel(l => new(Reasons.DenyNotInAudience, Reasons.RuleFor(l), null, "not named, directly or through a group, in the finding's access policy"));
        private static readonly PolicyReason[][] NotCommunityByLabel = ByLabel(l => new(Reasons.DenyNotCommunityMember, Reasons.RuleFor(l), null, $"{l.Name()} stays inside the network community and this institute is not a member"));
        private static readonly PolicyReason[][] GroupOnlyByLabel = ByLabel(l => new(Reasons.DenyNamedThroughGroupOnly, Reasons.RuleFor(l), null, $"{l.Name()} goes only to institutes named directly, not through a group"));
        private static readonly PolicyReason[][] NoAgreementByLabel = ByLabel(l => new(Reasons.DenyNoAgreement, Reasons.RuleFor(l), null, $"{l.Name()} needs an agreement between the origin and this institute, and there is none"));

        public static readonly PolicyReason[] Withdrawn = [new(Reasons.DenyWithdrawn, "withdrawn", null, "the finding is withdrawn")];
        public static readonly PolicyReason[] Unlabelled = [new(Reasons.DenyUnlabelled, "default-deny", null, "the finding has no TLP label")];
        public static readonly PolicyReason[] UnknownOrigin = [new(Reasons.DenyUnknownOrigin, "default-deny", null, "the origin is not an institute of the manifest")];
        public static readonly PolicyReason[] InAudience = [new(Reasons.AllowAudience, "tlp.clear", null, "CLEAR goes to every institute in the audience")];
        public static readonly PolicyReason[] CommunityMember = [new(Reasons.AllowCommunity, "tlp.green", null, "GREEN goes to community members in the audience")];
        public static readonly PolicyReason Embargo = new(Reasons.ScheduledEmbargo, "embargo", null, "held until the embargo lifts");

        public static PolicyReason[] NotInAudience(TlpLevel label) => NotInAudienceByLabel[Clamp(label)];
        public static PolicyReason[] NotCommunityMember(TlpLevel label) => NotCommunityByLabel[Clamp(label)];
        public static PolicyReason[] NamedThroughGroupOnly(TlpLevel label) => GroupOnlyByLabel[Clamp(label)];
        public static PolicyReason[] NoAgreement(TlpLevel label) => NoAgreementByLabel[Clamp(label)];

        private static int Clamp(TlpLevel label) => label is >= TlpLevel.Unspecified and <= TlpLevel.Red ? (int)label : 0;

        private static PolicyReason[][] ByLabel(Func<TlpLevel, PolicyReason> make) =>
            Enum.GetValues<TlpLevel>().OrderBy(l => (int)l).Select(l => new[] { make(l) }).ToArray();
    }
}

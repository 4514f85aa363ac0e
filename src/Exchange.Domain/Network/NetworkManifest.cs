using Exchange.V1;

namespace Exchange.Domain.Network;

/// <summary>
/// The institutes, groups and agreements of the network, as every node loads them. A node trusts
/// only the keys listed here. Build one with <see cref="ManifestLoader"/>, which validates it.
/// </summary>
public sealed class NetworkManifest
{
    internal NetworkManifest(
        string name,
        string communityGroup,
        IReadOnlyList<InstituteEntry> institutes,
        IReadOnlyList<GroupEntry> groups,
        IReadOnlyList<AgreementEntry> agreements,
        string sha256)
    {
        Name = name;
        CommunityGroup = communityGroup;
        Institutes = institutes;
        Groups = groups;
        Agreements = agreements;
        Sha256 = sha256;
        InstitutesById = institutes.ToDictionary(i => i.Id, StringComparer.Ordinal);
        GroupsById = groups.ToDictionary(g => g.Id, StringComparer.Ordinal);
        Community = GroupsById[communityGroup].Members.ToHashSet(StringComparer.Ordinal);
    }

    public string Name { get; }
    public string CommunityGroup { get; }
    public IReadOnlyList<InstituteEntry> Institutes { get; }
    public IReadOnlyList<GroupEntry> Groups { get; }
    public IReadOnlyList<AgreementEntry> Agreements { get; }

    /// <summary>Hex SHA-256 of the manifest bytes, so two nodes can see they loaded the same file.</summary>
    public string Sha256 { get; }

    public IReadOnlyDictionary<string, InstituteEntry> InstitutesById { get; }
    public IReadOnlyDictionary<string, GroupEntry> GroupsById { get; }
    internal IReadOnlySet<string> Community { get; }

    public bool IsCommunityMember(string instituteId) => Community.Contains(instituteId);

    public InstituteEntry? FindInstitute(string id) => InstitutesById.GetValueOrDefault(id);
}

public sealed record InstituteEntry(
    string Id,
    string Name,
    string Jurisdiction,
    byte[] SigningKey,
    byte[] EncryptionKey,
    string TokenIssuer,
    string BrokerQueue);

public sealed record GroupEntry(string Id, string Name, IReadOnlyList<string> Members);

/// <summary>
/// An agreement among its parties (every pair of them) allowing labels up to <see cref="MaxLabel"/>
/// for the listed risk domains (all when empty), from <see cref="ValidFrom"/> until <see cref="ValidTo"/>.
/// </summary>
public sealed record AgreementEntry(
    string Id,
    string Name,
    IReadOnlyList<string> Parties,
    TlpLevel MaxLabel,
    IReadOnlyList<RiskDomain> RiskDomains,
    DateTimeOffset ValidFrom,
    DateTimeOffset ValidTo)
{
    public bool CoversAllDomains => RiskDomains.Count == 0;

    public bool Covers(RiskDomain domain) => CoversAllDomains || RiskDomains.Contains(domain);

    public bool InForceAt(DateTimeOffset now) => ValidFrom <= now && now < ValidTo;

    /// <summary>Whether it has ended by <paramref name="now"/> (<see cref="ValidTo"/> is exclusive).</summary>
    public bool HasEndedAt(DateTimeOffset now) => ValidTo <= now;

    public bool Binds(string a, string b) => a != b && Parties.Contains(a) && Parties.Contains(b);
}

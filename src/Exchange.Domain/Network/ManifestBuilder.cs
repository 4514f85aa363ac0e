using System.Text.Json;

namespace Exchange.Domain.Network;

/// <summary>Writes manifest files (the demo, deployment scripts, tests); <see cref="ManifestLoader"/> reads and checks them.</summary>
public sealed class ManifestBuilder(string name, string communityGroup = "network")
{
    private readonly List<InstituteDocument> _institutes = [];
    private readonly List<GroupDocument> _groups = [];
    private readonly List<AgreementDocument> _agreements = [];

    public string CommunityGroup => communityGroup;

    public ManifestBuilder Institute(string id, string instituteName, string jurisdiction, byte[] signingKey, byte[] encryptionKey, string tokenIssuer, string brokerQueue)
    {
        _institutes.Add(new InstituteDocument
        {
            Id = id, Name = instituteName, Jurisdiction = jurisdiction,
            SigningKey = Convert.ToBase64String(signingKey), EncryptionKey = Convert.ToBase64String(encryptionKey),
            TokenIssuer = tokenIssuer, BrokerQueue = brokerQueue,
        });
        return this;
    }

    public ManifestBuilder Group(string id, string groupName, IEnumerable<string> members)
    {
        _groups.Add(new GroupDocument { Id = id, Name = groupName, Members = [.. members] });
        return this;
    }

    public ManifestBuilder Agreement(string id, string agreementName, IEnumerable<string> parties, string maxLabel, IEnumerable<string> riskDomains, DateTimeOffset validFrom, DateTimeOffset validTo)
    {
        _agreements.Add(new AgreementDocument
        {
            Id = id, Name = agreementName, Parties = [.. parties], MaxLabel = maxLabel, RiskDomains = [.. riskDomains],
            ValidFrom = validFrom, ValidTo = validTo,
        });
        return this;
    }

    public bool HasGroup(string id) => _groups.Any(g => g.Id == id);

    public ManifestBuilder Clone()
    {
        var copy = new ManifestBuilder(name, communityGroup);
        var json = ToJson();
        var document = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ManifestDocument)!;
        copy._institutes.AddRange(document.Institutes!.Select(i => i!));
        copy._groups.AddRange(document.Groups!.Select(g => g!));
        copy._agreements.AddRange(document.Agreements!.Select(a => a!));
        return copy;
    }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(new ManifestDocument
    {
        FormatVersion = ManifestLoader.FormatVersion,
        Name = name,
        CommunityGroup = communityGroup,
        Institutes = [.. _institutes],
        Groups = [.. _groups],
        Agreements = [.. _agreements],
    }, ManifestJsonContext.Default.ManifestDocument);
}

using Exchange.Domain;
using Exchange.Domain.Network;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Network;

internal sealed class NetworkGrpcService(NetworkManifest manifest, NodeKeyRing keys, IOptions<NodeOptions> node, TimeProvider time) : NetworkService.NetworkServiceBase
{
    [Authorize(Scopes.NetworkAdmin)]
    public override Task<GetNodeKeysResponse> GetNodeKeys(GetNodeKeysRequest request, ServerCallContext context) =>
        Task.FromResult(new GetNodeKeysResponse
        {
            InstituteId = node.Value.InstituteId,
            SigningKey = Convert.ToBase64String(keys.SigningPublicKey),
            EncryptionKey = Convert.ToBase64String(keys.EncryptionPublicKey),
        });

    [Authorize(Identity.AnyScopeRequirement.NetworkRead)]
    public override Task<GetNetworkResponse> GetNetwork(GetNetworkRequest request, ServerCallContext context)
    {
        var response = new GetNetworkResponse
        {
            Name = manifest.Name,
            SelfInstitute = node.Value.InstituteId,
            CommunityGroup = manifest.CommunityGroup,
            ManifestSha256 = manifest.Sha256,
        };
        response.Institutes.AddRange(Institutes());
        response.Groups.AddRange(Groups());
        response.Agreements.AddRange(Agreements());
        return Task.FromResult(response);
    }

    [Authorize(Identity.AnyScopeRequirement.NetworkRead)]
    public override Task<ListInstitutesResponse> ListInstitutes(ListInstitutesRequest request, ServerCallContext context) =>
        Task.FromResult(new ListInstitutesResponse { Institutes = { Institutes() } });

    [Authorize(Identity.AnyScopeRequirement.NetworkRead)]
    public override Task<ListGroupsResponse> ListGroups(ListGroupsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListGroupsResponse { Groups = { Groups() } });

    [Authorize(Identity.AnyScopeRequirement.NetworkRead)]
    public override Task<ListAgreementsResponse> ListAgreements(ListAgreementsRequest request, ServerCallContext context) =>
        Task.FromResult(new ListAgreementsResponse { Agreements = { Agreements() } });

    private IEnumerable<Institute> Institutes() => manifest.Institutes.Select(i => new Institute
    {
        Id = i.Id,
        Name = i.Name,
        Jurisdiction = i.Jurisdiction,
        SigningKey = Convert.ToBase64String(i.SigningKey),
        EncryptionKey = Convert.ToBase64String(i.EncryptionKey),
        TokenIssuer = i.TokenIssuer,
        BrokerQueue = i.BrokerQueue,
        CommunityMember = manifest.IsCommunityMember(i.Id),
    });

    private IEnumerable<Group> Groups() => manifest.Groups.Select(g => new Group { Id = g.Id, Name = g.Name, Members = { g.Members } });

    private IEnumerable<Agreement> Agreements()
    {
        var now = time.GetUtcNow();
        return manifest.Agreements.Select(a => new Agreement
        {
            Id = a.Id,
            Parties = { a.Parties },
            MaxLabel = a.MaxLabel,
            RiskDomains = { a.RiskDomains },
            ValidFrom = Timestamp.FromDateTimeOffset(a.ValidFrom),
            ValidTo = Timestamp.FromDateTimeOffset(a.ValidTo),
            InForce = a.InForceAt(now),
        });
    }
}

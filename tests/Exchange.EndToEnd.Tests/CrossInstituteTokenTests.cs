using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.EndToEnd.Tests;

/// <summary>Each node is its own token issuer: what one institute's node issued means nothing to another's.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class CrossInstituteTokenTests(RabbitNetworkFixture network)
{
    [Fact]
    public async Task A_token_from_another_institutes_node_is_unauthenticated_even_for_a_client_of_the_same_name()
    {
        // The same client id and secret exist on both nodes; only the issuer differs.
        var usToken = await network["us"].AuthAsync(TestClients.Everything);
        using var channel = network["uk"].CreateChannel();

        var e = await Assert.ThrowsAsync<RpcException>(() => new FindingService.FindingServiceClient(channel)
            .ListFindingsAsync(new ListFindingsRequest(), usToken).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        // And uk's own token for that client works, so the refusal is about the issuer.
        await new FindingService.FindingServiceClient(channel).ListFindingsAsync(new ListFindingsRequest(), await network["uk"].AuthAsync(TestClients.Everything));
    }
}

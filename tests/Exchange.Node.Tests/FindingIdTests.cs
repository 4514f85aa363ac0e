using Exchange.Node.Disclosure;

namespace Exchange.Node.Tests;

/// <summary>An envelope's finding id must be its origin's own id shape, so no institute can claim ids of another whose id it prefixes.</summary>
public sealed class FindingIdTests
{
    [Theory]
    [InlineData("uk", "uk-01a229dc36287c2cb8b731319a71a484", true)]
    [InlineData("uk", "uk-ai-01a229dc36287c2cb8b731319a71a4", false)]
    [InlineData("uk", "uk-ai-01a229dc36287c2cb8b731319a71a484", false)]
    [InlineData("uk-ai", "uk-ai-01a229dc36287c2cb8b731319a71a484", true)]
    [InlineData("uk", "uk-01A229DC36287C2CB8B731319A71A484", false)]
    [InlineData("uk", "uk-01a229dc36287c2cb8b731319a71a48", false)]
    [InlineData("uk", "us-01a229dc36287c2cb8b731319a71a484", false)]
    public void A_finding_id_is_its_origins_id_a_dash_and_32_hex_digits(string origin, string id, bool valid) =>
        Assert.Equal(valid, InboxProcessor.IsIdOf(origin, id));
}

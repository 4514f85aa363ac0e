using Exchange.Domain.Network;
using Exchange.Domain.Subscriptions;
using Exchange.V1;
using static Exchange.Domain.Tests.ManifestText;

namespace Exchange.Domain.Tests;

public sealed class FeedFilterTests
{
    private static readonly NetworkManifest Manifest = ManifestLoader.Load(
        Bytes(Document([Institute("uk", 0), Institute("us", 1)], [Group("network", "uk", "us")], [])));

    private static FeedSubject Subject(TlpLevel label = TlpLevel.Green, RiskDomain domain = RiskDomain.Cyber, string origin = "uk") =>
        new(origin, label, domain, "frontier-1", "example labs");

    private static FeedFilter Filter(SubscribeRequest request)
    {
        var filter = FeedFilter.Create(request, Manifest, out var violations);
        Assert.Empty(violations);
        return filter;
    }

    [Fact]
    public void An_empty_filter_matches_every_label_and_leaves_what_may_be_seen_to_the_access_rule()
    {
        foreach (var label in new[] { TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red })
        {
            Assert.True(Filter(new SubscribeRequest()).Matches(Subject(label)));
        }
    }

    [Fact]
    public void Each_filter_narrows_and_all_of_them_must_hold()
    {
        Assert.False(Filter(new SubscribeRequest { Labels = { TlpLevel.Amber } }).Matches(Subject(TlpLevel.Green)));
        Assert.False(Filter(new SubscribeRequest { RiskDomains = { RiskDomain.ChemBio } }).Matches(Subject()));
        Assert.True(Filter(new SubscribeRequest { RiskDomains = { RiskDomain.ChemBio, RiskDomain.Cyber } }).Matches(Subject()));
        Assert.False(Filter(new SubscribeRequest { OriginInstitutes = { "us" } }).Matches(Subject()));
        Assert.True(Filter(new SubscribeRequest { Model = "FRONTIER-1" }).Matches(Subject()));
        Assert.True(Filter(new SubscribeRequest { Model = "Example Labs" }).Matches(Subject()));
        Assert.False(Filter(new SubscribeRequest { Model = "frontier" }).Matches(Subject()));
        Assert.False(Filter(new SubscribeRequest { Labels = { TlpLevel.Green }, OriginInstitutes = { "us" } }).Matches(Subject()));
    }

    [Fact]
    public void Every_bad_field_is_named()
    {
        FeedFilter.Create(new SubscribeRequest
        {
            Labels = { TlpLevel.Green, (TlpLevel)42 },
            RiskDomains = { RiskDomain.Unspecified },
            OriginInstitutes = { "us", "nowhere" },
            Model = new string('m', FeedFilter.MaxModelLength + 1),
        }, Manifest, out var violations);

        Assert.Equal(["labels[1]", "risk_domains[0]", "origin_institutes[1]", "model"], violations.Select(v => v.Field));
    }

    [Theory]
    [InlineData(AuditEventKind.FindingSubmitted, 1, FeedEventKind.Published)]
    [InlineData(AuditEventKind.FindingSubmitted, 2, FeedEventKind.Superseded)]
    [InlineData(AuditEventKind.FindingReceived, 1, FeedEventKind.Received)]
    [InlineData(AuditEventKind.FindingReceived, 3, FeedEventKind.Superseded)]
    [InlineData(AuditEventKind.FindingWithdrawn, 2, FeedEventKind.Withdrawn)]
    [InlineData(AuditEventKind.FindingSuperseded, 1, FeedEventKind.Unspecified)]
    [InlineData(AuditEventKind.FindingRead, 1, FeedEventKind.Unspecified)]
    public void Audit_events_become_feed_events(AuditEventKind kind, int version, FeedEventKind expected)
    {
        Assert.Equal(expected, FeedEvents.Classify(kind, version));
        Assert.Equal(expected != FeedEventKind.Unspecified, FeedEvents.AuditKinds.Contains(kind.ToString()));
    }
}

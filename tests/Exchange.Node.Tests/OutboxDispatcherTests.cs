using Exchange.Node.Disclosure;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>The dispatcher against a broker that swallows a send and never confirms it.</summary>
public sealed class OutboxDispatcherTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly SwallowingTransport _transport = new();
    private TestDatabase _database = null!;
    private NodeHost _node = null!;

    public async Task InitializeAsync()
    {
        var manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");
        _database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, _directory);
        _node = new NodeHost("uk", manifest.WriteTo(_directory), manifest.Keys["uk"], _database, _directory,
            settings: [new("Broker:SendTimeout", "00:00:01")],
            services: s => s.AddSingleton<IEnvelopeTransport>(_transport));
        _ = _node.Server;
    }

    [Fact]
    public async Task A_send_the_broker_never_confirms_times_out_and_is_sent_again_without_holding_up_the_rest()
    {
        using var channel = _node.CreateChannel();
        var client = new FindingService.FindingServiceClient(channel);
        var auth = await _node.AuthAsync(TestClients.Submitter);
        var first = (await client.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]), auth)).Finding.Id;
        await Eventually.TrueAsync(() => Task.FromResult(_transport.Swallowed > 0), "the first send is swallowed");
        var second = (await client.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]), auth)).Finding.Id;

        await Eventually.TrueAsync(async () => await SentAsync(first) && await SentAsync(second), "both findings are sent", TimeSpan.FromSeconds(30));

        await using var scope = _node.Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Outbox.SingleAsync(o => o.FindingId == first);
        Assert.Equal(1, row.Attempts);
        Assert.Equal(1, _transport.Swallowed);
    }

    private async Task<bool> SentAsync(string findingId)
    {
        await using var scope = _node.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Outbox.AnyAsync(o => o.FindingId == findingId && o.SentAt != null);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Swallows the first send for ever, ignoring cancellation, as a publish whose confirm was lost; takes the rest.</summary>
    private sealed class SwallowingTransport : IEnvelopeTransport
    {
        private int _sends;

        public int Swallowed => Math.Min(Volatile.Read(ref _sends), 1);

        public Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _sends) == 1 ? new TaskCompletionSource().Task : Task.CompletedTask;
    }
}

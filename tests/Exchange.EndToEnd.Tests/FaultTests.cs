using Exchange.Testing;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// Faults in the middle of real runs, nodes as processes on the real RabbitMQ. After each: 0 lost,
/// 0 duplicated, 0 delivered to an unauthorised peer, every acknowledgement backed by its signed
/// receipt, every node's audit log verifying.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class FaultTests(ProcessNetworkFixture network) : IClassFixture<ProcessNetworkFixture>
{
    private async Task WhenSubmittedAsync(int count)
    {
        await Eventually.TrueAsync(() => Task.FromResult(network.Submitted >= count),
            () => $"{count} findings submitted (so far {network.Submitted}, {network.Retries} retries, last error: {network.LastError}; uk said: {string.Join(" | ", network["uk"].LastOutput(5))})",
            TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task Two_replicas_of_the_origin_on_one_database_send_each_message_once_and_keep_one_audit_log()
    {
        var replica = await network.StartReplicaAsync("uk");
        try
        {
            // Submissions alternate between the replicas; both dispatch from the one outbox and both
            // take receipts off the one queue.
            var ids = await network.SubmitAsync(400, via: [network["uk"], replica]);

            await network.AssertIntactAsync(ids);
            // A message sent by both replicas would reach its recipient twice and be dropped there as a duplicate.
            foreach (var peer in ProcessNetworkFixture.Allowed)
            {
                Assert.Equal(0, await network.QueryAsync(peer, db => db.AuditEvents.CountAsync(
                    e => e.Kind == nameof(AuditEventKind.DuplicateDropped) && ids.Contains(e.FindingId!))));
            }
            Assert.Equal(ids.Count * ProcessNetworkFixture.Allowed.Length, await network.QueryAsync("uk", db => db.AuditEvents.CountAsync(
                e => e.Kind == nameof(AuditEventKind.DisclosureSent) && ids.Contains(e.FindingId!))));
        }
        finally
        {
            await replica.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_given_the_nodes_of_a_cluster_connects_past_one_that_is_down()
    {
        // Broker:Host and :Port name a port nobody listens on, and so does the first cluster node:
        // only the second cluster node is the real broker. Were Broker:ClusterNodes ignored, uk
        // would never connect and nothing would be delivered.
        try
        {
            await network.RestartAsync("uk",
            [
                new("Broker:Port", "1"),
                new("Broker:ClusterNodes:0", $"{RabbitMqTestBroker.Host}:1"),
                new("Broker:ClusterNodes:1", $"{RabbitMqTestBroker.Host}:5672"),
            ]);
            var ids = await network.SubmitAsync(100);

            await network.AssertIntactAsync(ids);
        }
        finally
        {
            await network.RestartAsync("uk");
        }
    }

    [Fact]
    public async Task Restarting_RabbitMQ_in_the_middle_of_a_run_of_1000_findings()
    {
        var run = network.SubmitAsync(1000);
        await WhenSubmittedAsync(250);
        await RabbitMqTestBroker.RestartAsync();

        await network.AssertIntactAsync(await run);
    }

    [Fact]
    public async Task Killing_the_origin_node_in_the_middle_of_dispatch_and_starting_it_again()
    {
        var run = network.SubmitAsync(300);
        await WhenSubmittedAsync(120);
        await network.KillAsync("uk");
        await Task.Delay(1000);
        await network.RestartAsync("uk");

        await network.AssertIntactAsync(await run);
    }

    [Fact]
    public async Task Killing_a_recipient_in_the_middle_of_receiving_and_starting_it_again()
    {
        var run = network.SubmitAsync(300);
        await WhenSubmittedAsync(120);
        await network.KillAsync("us");
        await Task.Delay(1000);
        await network.RestartAsync("us");

        await network.AssertIntactAsync(await run);
    }

    [Fact]
    public async Task A_peer_down_for_the_whole_run_receives_everything_when_it_comes_back()
    {
        await network.KillAsync("jp");
        var ids = await network.SubmitAsync(300);
        await Eventually.TrueAsync(async () => await network.QueryAsync("us", db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Findings, f => ids.Contains(f.Id))) == ids.Count,
            "us has every finding while jp is down", TimeSpan.FromMinutes(3));
        await network.RestartAsync("jp");

        await network.AssertIntactAsync(ids);
    }

    [Fact]
    public async Task Closing_every_broker_connection_from_the_broker_side_in_the_middle_of_a_run()
    {
        var run = network.SubmitAsync(300);
        await WhenSubmittedAsync(80);
        await RabbitMqTestBroker.CloseAllConnectionsAsync();
        await WhenSubmittedAsync(200);
        await RabbitMqTestBroker.CloseAllConnectionsAsync();

        await network.AssertIntactAsync(await run);
    }

    [Fact]
    public async Task An_exhausted_database_connection_pool_at_the_origin()
    {
        // Three connections and a one-second wait for one. While the test holds a lock on the
        // findings table, every submission that gets a connection keeps it, waiting, and the rest
        // of the node (API, dispatcher, receipts, audit) finds the pool empty.
        try
        {
            // Inside the try: if this start fails, the finally still brings uk back for the other tests.
            await network.RestartAsync("uk", connectionString: network.ConnectionString("uk") + ";Maximum Pool Size=3;Timeout=1");
            var run = network.SubmitAsync(300, concurrency: 16);
            await WhenSubmittedAsync(60);
            await using (var blocker = new Npgsql.NpgsqlConnection(network.ConnectionString("uk")))
            {
                await blocker.OpenAsync();
                await using var transaction = await blocker.BeginTransactionAsync();
                await using (var command = new Npgsql.NpgsqlCommand("LOCK TABLE findings IN EXCLUSIVE MODE", blocker, transaction))
                {
                    await command.ExecuteNonQueryAsync();
                }
                await Task.Delay(TimeSpan.FromSeconds(4));
                await transaction.CommitAsync();
            }
            var ids = await run;
            // The clients were told to come back (UNAVAILABLE), and came back with the same request ids.
            Assert.True(network.Unavailable > 0, $"no call was answered UNAVAILABLE ({network.Retries} retries): the pool was never exhausted");

            await network.AssertIntactAsync(ids);
        }
        finally
        {
            await network.RestartAsync("uk");
        }
    }
    /// <summary>
    /// A recipient's exchange or queue taken away in the middle of a run, by an administrator or a
    /// broker fault (no institute's own user may do it: see FanOutTests). Deleted or unbound, the
    /// broker refuses or returns every publish (nothing declares it again, sends are mandatory):
    /// nothing is marked sent, and it all goes once the exchange is back. Purged while the
    /// recipient is down, the loss is past the broker's confirm: only the missing receipt shows it,
    /// and the origin sends the same envelopes again. Either way everything arrives, once.
    /// </summary>
    [Theory]
    [InlineData("deleted")]
    [InlineData("unbound")]
    [InlineData("purged")]
    public async Task A_recipients_exchange_or_queue_taken_away_in_the_middle_of_a_run_loses_nothing_once_it_is_back(string how)
    {
        const string queue = "exchange.us.inbox";
        var deliveries = $"{queue}.deliveries";
        try
        {
            await network.RestartAsync("uk", [new("Broker:ReceiptTimeout", "00:00:05")]);
            await using (var admin = await network.Broker.ConnectAsAdminAsync())
            await using (var channel = await admin.CreateChannelAsync())
            {
                switch (how)
                {
                    case "deleted":
                        await channel.ExchangeDeleteAsync(deliveries);
                        break;
                    case "unbound":
                        await channel.ExchangeUnbindAsync(queue, deliveries, "");
                        break;
                    case "purged":
                        await network.KillAsync("us");
                        break;
                }
            }
            var ids = await network.SubmitAsync(150);
            if (how == "purged")
            {
                // Routed to us's queue and confirmed; then the queue is emptied.
                await Eventually.TrueAsync(async () => await network.QueryAsync("uk", db => db.Outbox.CountAsync(
                        o => o.Recipient == "us" && o.SentAt != null && ids.Contains(o.FindingId!))) == ids.Count,
                    "uk has sent every finding to us", TimeSpan.FromMinutes(2));
                await using (var admin = await network.Broker.ConnectAsAdminAsync())
                await using (var channel = await admin.CreateChannelAsync())
                {
                    await channel.QueuePurgeAsync(queue);
                }
                // Past the deadline the origin sends again, and says so in its health.
                await Eventually.TrueAsync(async () => await network.QueryAsync("uk", db => db.Outbox.AnyAsync(
                        o => o.Recipient == "us" && o.Resends > 0 && o.AnsweredAt == null && ids.Contains(o.FindingId!))),
                    "uk sends unanswered findings again", TimeSpan.FromMinutes(1));
                using (var http = new HttpClient { BaseAddress = network["uk"].Address, DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact })
                {
                    Assert.Equal("Degraded", await http.GetStringAsync("/healthz"));
                }
                Assert.Equal(0, await network.QueryAsync("us", db => db.Findings.CountAsync(f => ids.Contains(f.Id))));
                await network.RestartAsync("us");
            }
            else
            {
                // Refused (no exchange) or returned (no binding): each send fails and is retried; none is marked sent.
                await Eventually.TrueAsync(async () => await network.QueryAsync("uk", db => db.Outbox.CountAsync(
                        o => o.Recipient == "us" && o.Attempts > 0 && o.LastError != null && ids.Contains(o.FindingId!))) > 0,
                    "uk's sends to us fail", TimeSpan.FromMinutes(1));
                Assert.Equal(0, await network.QueryAsync("uk", db => db.Outbox.CountAsync(o => o.Recipient == "us" && o.SentAt != null && ids.Contains(o.FindingId!))));
                await using var admin = await network.Broker.ConnectAsAdminAsync();
                await using var channel = await admin.CreateChannelAsync();
                if (how == "deleted")
                {
                    await channel.ExchangeDeclareAsync(deliveries, "fanout", durable: true, autoDelete: false);
                }
                await channel.ExchangeBindAsync(queue, deliveries, "");
            }

            await network.AssertIntactAsync(ids);
            if (how == "purged")
            {
                Assert.True(await network.QueryAsync("uk", db => db.Outbox.AnyAsync(o => o.Recipient == "us" && o.Resends > 0 && ids.Contains(o.FindingId!))),
                    "nothing was sent again, so nothing can have been recovered by resending");
            }
        }
        finally
        {
            await network.RestartAsync("uk");
            if (how == "purged")
            {
                await network.RestartAsync("us");
            }
        }
    }
}

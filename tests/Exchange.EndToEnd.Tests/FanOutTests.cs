using System.Text;
using Exchange.Domain.Network;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Exchange.EndToEnd.Tests;

/// <summary>Signed, sealed, exactly-once delivery between four nodes over a real RabbitMQ.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class FanOutTests(RabbitNetworkFixture network)
{
    [Fact]
    public async Task Sends_acknowledgements_and_receipts_are_counted_in_the_metrics_of_both_sides()
    {
        using var atUk = new MetricsRecorder(network["uk"].Services);
        using var atUs = new MetricsRecorder(network["us"].Services);

        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Green, institutes: ["us"]))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "us");

        await Eventually.TrueAsync(() => Task.FromResult(
                atUk.Sum("exchange.disclosures.sent", t => t["exchange.peer"] == "us") >= 1
                && atUk.Sum("exchange.disclosures.acknowledged", t => t["exchange.peer"] == "us") >= 1
                && atUs.Sum("exchange.findings.received", t => t["exchange.peer"] == "uk") >= 1),
            () => $"uk counts the send and the acknowledgement, us the receipt (uk: {string.Join(", ", atUk.Measurements.Select(m => m.Name))}; us: {string.Join(", ", atUs.Measurements.Select(m => m.Name))})",
            TimeSpan.FromSeconds(30));
        Assert.Equal(1, atUk.Sum("exchange.findings.submitted"));
    }

    [Fact]
    public async Task Allowed_peers_receive_exactly_once_and_denied_peers_receive_nothing()
    {
        var amber = await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"], groups: ["g7"]));
        var red = await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Red, RiskDomain.Cyber, institutes: ["us"], groups: ["g7"]));
        var id = amber.Finding.Id;

        await network.UntilDeliveredAsync("uk", id, "us");
        await network.UntilDeliveredAsync("uk", id, "jp");
        await network.UntilDeliveredAsync("uk", red.Finding.Id, "us");

        Assert.Single(await network.StoredAsync("us", id));
        Assert.Single(await network.StoredAsync("jp", id));
        Assert.Single(await network.StoredAsync("us", red.Finding.Id));
        Assert.Empty(await network.StoredAsync("jp", red.Finding.Id));
        Assert.Empty(await network.StoredAsync("fr", id));
        Assert.Equal(DeliveryState.NotSent, await network.DeliveryAsync("uk", red.Finding.Id, "jp"));
        var received = (await network.StoredAsync("jp", id)).Single();
        Assert.Equal("uk", received.OriginInstitute);
        Assert.NotNull(received.ReceivedAt);
        Assert.Contains(nameof(AuditEventKind.FindingReceived), await network.AuditKindsAsync("jp", id));
        Assert.Contains(nameof(AuditEventKind.DisclosureAcknowledged), await network.AuditKindsAsync("uk", id));
        // Every acknowledgement is backed by the recipient's signed receipt.
        var receipts = await network.QueryAsync("uk", db => db.Outbox.Where(o => o.FindingId == id && o.Kind == (int)EnvelopeKind.Finding).Select(o => o.Receipt).ToListAsync());
        Assert.All(receipts, r => Assert.NotNull(r));
    }

    [Fact]
    public async Task What_the_broker_carries_reveals_nothing_of_the_finding()
    {
        await using var spy = await network.Broker.ConnectAsAdminAsync();
        await using var channel = await spy.CreateChannelAsync();
        var tap = (await channel.QueueDeclareAsync(exclusive: true)).QueueName;
        await channel.QueueBindAsync(tap, "exchange.us.inbox.deliveries", "");
        var request = SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]);
        request.Content.Narrative = $"operator-must-not-read-{Guid.NewGuid():N}";

        await network.SubmitAsync("uk", request);

        BasicGetResult? message = null;
        await Eventually.TrueAsync(async () => (message = await channel.BasicGetAsync(tap, autoAck: true)) is not null, "the broker carried the envelope");
        var body = Encoding.UTF8.GetString(message!.Body.Span);
        Assert.DoesNotContain(request.Content.Narrative, body);
        Assert.DoesNotContain(request.Content.Title, body);
    }

    [Fact]
    public async Task The_receiver_rechecks_with_its_own_agreements_and_refuses_with_a_signed_reason()
    {
        // uk's manifest has an AMBER agreement with fr; fr's own copy does not.
        var response = await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, institutes: ["fr"]));
        var id = response.Finding.Id;
        Assert.Equal(DisclosureOutcome.Allow, response.Decisions.Single(d => d.InstituteId == "fr").Outcome);

        await network.UntilDeliveredAsync("uk", id, "fr", DeliveryState.Refused);

        Assert.Empty(await network.StoredAsync("fr", id));
        Assert.Contains(nameof(AuditEventKind.DisclosureRefused), await network.AuditKindsAsync("fr", id));
        Assert.Contains(nameof(AuditEventKind.DisclosureRefusedByPeer), await network.AuditKindsAsync("uk", id));
        var answer = await network.QueryAsync("uk", db => db.Outbox.SingleAsync(o => o.FindingId == id && o.Recipient == "fr"));
        Assert.StartsWith("deny.no-agreement", answer.AnswerReason);
    }

    [Fact]
    public async Task Withdrawal_reaches_every_recipient()
    {
        var id = (await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Green, groups: ["g7"]))).Finding.Id;
        foreach (var peer in new[] { "us", "jp", "fr" })
        {
            await network.UntilDeliveredAsync("uk", id, peer);
        }

        await network.WithdrawAsync("uk", id, "the scorer was miscalibrated");

        foreach (var peer in new[] { "us", "jp", "fr" })
        {
            await Eventually.TrueAsync(async () => (await network.StoredAsync(peer, id)).Single().State == (int)FindingState.Withdrawn, $"{peer} withdrew {id}");
            // The reason is the origin's words: sealed at the recipient like the finding, shown to its readers.
            var read = await new FindingService.FindingServiceClient(network[peer].CreateChannel())
                .GetFindingAsync(new GetFindingRequest { Id = id }, await network[peer].AuthAsync(TestClients.Reader));
            Assert.Equal("the scorer was miscalibrated", read.Finding.WithdrawalReason);
            Assert.Null((await network.StoredAsync(peer, id)).Single().WithdrawalReason);
        }
        await Eventually.TrueAsync(async () => (await network.QueryAsync("uk", db => db.Outbox.CountAsync(o =>
            o.FindingId == id && o.Kind == (int)EnvelopeKind.Withdrawal && o.Accepted == true))) == 3, "every withdrawal acknowledged");
    }

    [Fact]
    public async Task A_new_version_reaches_its_recipients_and_those_it_no_longer_reaches_withdraw_the_old_one()
    {
        var first = await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"]));
        var id = first.Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "us");
        await network.UntilDeliveredAsync("uk", id, "jp");

        var second = SampleFindings.Valid(TlpLevel.Red, RiskDomain.Cyber, institutes: ["us", "jp"]);
        second.SupersedesFindingId = id;
        second.Content.Title = "Exploit chain confirmed";
        await network.SubmitAsync("uk", second);

        await network.UntilDeliveredAsync("uk", id, "us", version: 2);
        var atUs = await network.StoredAsync("us", id);
        Assert.Equal([1, 2], atUs.Select(f => f.Version));
        Assert.True(atUs.Single(f => f.Version == 2).IsCurrent);
        Assert.Equal((int)FindingState.Superseded, atUs.Single(f => f.Version == 1).State);
        // jp may not see RED: it withdraws version 1 instead of receiving version 2.
        await Eventually.TrueAsync(async () => (await network.StoredAsync("jp", id)).Single().State == (int)FindingState.Withdrawn, "jp withdrew version 1");
        Assert.DoesNotContain(await network.StoredAsync("jp", id), f => f.Version == 2);
    }

    [Fact]
    public async Task An_embargoed_finding_is_held_and_released_when_the_embargo_lifts()
    {
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
        request.Policy.EmbargoUntil = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(4));
        var response = await network.SubmitAsync("uk", request);
        var id = response.Finding.Id;
        Assert.Equal(DisclosureOutcome.Scheduled, response.Decisions.Single(d => d.InstituteId == "us").Outcome);

        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(DeliveryState.Held, await network.DeliveryAsync("uk", id, "us"));
        Assert.Empty(await network.StoredAsync("us", id));

        await network.UntilDeliveredAsync("uk", id, "us", timeout: TimeSpan.FromSeconds(30));
        Assert.Single(await network.StoredAsync("us", id));
        Assert.Contains(nameof(AuditEventKind.EmbargoReleased), await network.AuditKindsAsync("uk", id));
    }

    [Fact]
    public async Task A_peer_that_was_offline_receives_its_backlog_when_it_comes_back()
    {
        await network.StopAsync("jp");
        var ids = new List<string>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                ids.Add((await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["jp"]))).Finding.Id);
            }
            await Eventually.TrueAsync(async () => await network.DeliveryAsync("uk", ids[^1], "jp") == DeliveryState.Sent, "the backlog waits on the broker");
        }
        finally
        {
            await network.StartAsync("jp");
        }

        foreach (var id in ids)
        {
            await network.UntilDeliveredAsync("uk", id, "jp");
            Assert.Single(await network.StoredAsync("jp", id));
        }
    }

    [Fact]
    public async Task A_broker_restart_in_the_middle_of_a_run_loses_and_duplicates_nothing()
    {
        var submitting = Task.Run(async () =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 60; i++)
            {
                ids.Add((await network.SubmitAsync("uk", SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"]))).Finding.Id);
            }
            return ids;
        });
        await Task.Delay(300);
        await RabbitMqTestBroker.RestartAsync();
        var ids = await submitting;

        foreach (var id in ids)
        {
            await network.UntilDeliveredAsync("uk", id, "us", timeout: TimeSpan.FromMinutes(2));
            await network.UntilDeliveredAsync("uk", id, "jp", timeout: TimeSpan.FromMinutes(2));
        }
        foreach (var peer in new[] { "us", "jp" })
        {
            var stored = await network.QueryAsync(peer, db => db.Findings.CountAsync(f => ids.Contains(f.Id)));
            Assert.Equal(ids.Count, stored);
        }
    }

    [Fact]
    public async Task Tampered_forged_misaddressed_and_replayed_envelopes_are_refused_recorded_and_never_stored()
    {
        await using var asJp = await EnvelopeInjector.ConnectAsAsync(network, "jp");

        var (genuine, replayedId) = asJp.Keys.GenuineFinding("uk", "us");
        await asJp.SendAsync("us", genuine);
        await Eventually.TrueAsync(async () => (await network.StoredAsync("us", replayedId)).Count == 1, "the genuine envelope is stored");
        await asJp.SendAsync("us", genuine);

        var (tampered, tamperedId) = asJp.Keys.GenuineFinding("uk", "us");
        tampered[^70] ^= 0x01;
        await asJp.SendAsync("us", tampered);

        var forgedFinding = new FindingPayload { Finding = new Finding { Id = "uk-forged", OriginInstitute = "uk", Version = 1, Label = new Label { Level = TlpLevel.Green } } };
        var forged = asJp.Keys.Seal(signer: "jp", origin: "uk", sealedTo: "us", addressedTo: "us", EnvelopeKind.Finding, forgedFinding, "uk-forged", TlpLevel.Green);
        await asJp.SendAsync("us", forged);

        var (misaddressed, misaddressedId) = asJp.Keys.GenuineFinding("uk", "jp");
        await asJp.SendAsync("us", misaddressed);

        await Eventually.TrueAsync(async () => (await network.AuditAsync("us", AuditEventKind.EnvelopeRejected))
            .Count(e => e.FindingId is "uk-forged" || e.FindingId == tamperedId || e.FindingId == misaddressedId) == 3, "three rejections recorded");
        await Eventually.TrueAsync(async () => (await network.AuditKindsAsync("us", replayedId)).Contains(nameof(AuditEventKind.DuplicateDropped)), "the replay recorded");

        var rejections = (await network.AuditAsync("us", AuditEventKind.EnvelopeRejected)).GroupBy(e => e.FindingId)
            .ToDictionary(g => g.Key, g => string.Join(",", g.Select(e => e.Reasons.Single().Code + "@" + e.MessageId)));
        Assert.StartsWith("envelope.bad-signature", rejections[tamperedId]);
        // Signed by jp in uk's name: either the key id is not uk's, or the signature does not verify with uk's key.
        Assert.Matches("^envelope.(unknown-signing-key|bad-signature)", rejections["uk-forged"]);
        Assert.StartsWith("envelope.misaddressed", rejections[misaddressedId]);
        Assert.Single(await network.StoredAsync("us", replayedId));
        Assert.Empty(await network.StoredAsync("us", tamperedId));
        Assert.Empty(await network.StoredAsync("us", "uk-forged"));
        Assert.Empty(await network.StoredAsync("us", misaddressedId));
    }

    [Fact]
    public async Task An_envelope_signed_with_a_key_the_manifest_does_not_list_is_refused()
    {
        await using var asJp = await EnvelopeInjector.ConnectAsAsync(network, "jp");
        // Keys outside the manifest, as a node with a stolen broker password but no manifest entry would have.
        var outsider = new TestManifest().Institute("uk").Institute("us", keys: network.Manifest.Keys["us"]);
        var (envelope, id) = new TestEnvelopes(outsider).GenuineFinding("uk", "us");

        await asJp.SendAsync("us", envelope);

        await Eventually.TrueAsync(async () => (await network.AuditAsync("us", AuditEventKind.EnvelopeRejected)).Any(e => e.FindingId == id), "rejection recorded");
        Assert.Equal("envelope.unknown-signing-key", (await network.AuditAsync("us", AuditEventKind.EnvelopeRejected)).Single(e => e.FindingId == id).Reasons.Single().Code);
        Assert.Empty(await network.StoredAsync("us", id));
    }

    [Fact]
    public async Task A_poison_message_is_dead_lettered_with_its_reason_not_retried_forever_nor_dropped()
    {
        await using var asJp = await EnvelopeInjector.ConnectAsAsync(network, "jp");
        var poison = Encoding.UTF8.GetBytes($"not an envelope {Guid.NewGuid()}");

        await asJp.SendAsync("us", poison);

        await using var admin = await network.Broker.ConnectAsAdminAsync();
        BasicGetResult? dead = null;
        await Eventually.TrueAsync(async () =>
        {
            // MassTransit creates the _error queue with the first fault; until then a get closes the channel.
            await using var channel = await admin.CreateChannelAsync();
            try
            {
                await channel.QueueDeclarePassiveAsync("exchange.us.inbox_error");
            }
            catch (OperationInterruptedException)
            {
                return false;
            }
            while ((dead = await channel.BasicGetAsync("exchange.us.inbox_error", autoAck: true)) is not null)
            {
                if (dead.Body.Span.IndexOf(Encoding.UTF8.GetBytes(Convert.ToBase64String(poison))) >= 0)
                {
                    return true;
                }
            }
            return false;
        }, "the poison message is in us's _error queue");
        var reason = Encoding.UTF8.GetString((byte[])dead!.BasicProperties.Headers!["MT-Fault-Message"]!);
        Assert.Contains("envelope.malformed", reason);
        Assert.Contains(await network.AuditAsync("us", AuditEventKind.EnvelopeRejected), e => e.Reasons.Any(r => r.Code == "envelope.malformed"));
    }

    /// <summary>
    /// Generated from the definitions the broker loaded, not hand-listed: for every ordered pair of
    /// institutes and every queue, exchange and binding of the second, the first institute's broker
    /// user is refused (403) every operation that could read, drop, reroute or replace it. Only a
    /// publish to another institute's deliveries exchange is allowed, which is how it sends.
    /// </summary>
    [Fact]
    public async Task No_institutes_broker_user_can_consume_purge_delete_unbind_or_declare_anything_of_another_institute()
    {
        var definitions = network.Broker.Definitions;
        var queues = definitions["queues"]!.AsArray().Select(q => (string)q!["name"]!).ToList();
        string OwnerOf(string name) => queues.Where(q => name == q || name.StartsWith(q + ".", StringComparison.Ordinal) || name.StartsWith(q + "_", StringComparison.Ordinal))
            .OrderByDescending(q => q.Length).First();
        var attacks = new List<(string Target, string What, Func<IChannel, Task> Action)>();
        foreach (var queue in queues)
        {
            attacks.Add((queue, $"consume {queue}", c => c.BasicConsumeAsync(queue, autoAck: true, new AsyncEventingBasicConsumer(c))));
            attacks.Add((queue, $"get from {queue}", c => c.BasicGetAsync(queue, autoAck: true)));
            attacks.Add((queue, $"purge {queue}", c => c.QueuePurgeAsync(queue)));
            attacks.Add((queue, $"delete {queue}", c => c.QueueDeleteAsync(queue)));
            attacks.Add((queue, $"declare {queue}", c => c.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" })));
        }
        foreach (var exchange in definitions["exchanges"]!.AsArray().Select(e => (string)e!["name"]!))
        {
            attacks.Add((exchange, $"delete exchange {exchange}", c => c.ExchangeDeleteAsync(exchange)));
            attacks.Add((exchange, $"declare exchange {exchange}", c => c.ExchangeDeclareAsync(exchange, "fanout", durable: true, autoDelete: false)));
            if (!exchange.EndsWith(".deliveries", StringComparison.Ordinal))
            {
                attacks.Add((exchange, $"publish to {exchange}", async c =>
                {
                    await c.BasicPublishAsync(exchange, "", mandatory: false, new BasicProperties(), new byte[] { 1 });
                    // The refusal closes the channel asynchronously: a round trip after the publish sees it.
                    await c.QueueDeclarePassiveAsync(OwnerOf(exchange));
                }));
            }
        }
        foreach (var binding in definitions["bindings"]!.AsArray())
        {
            var (source, destination, type) = ((string)binding!["source"]!, (string)binding["destination"]!, (string)binding["destination_type"]!);
            attacks.Add((destination, $"unbind {source} -> {destination}", c => type == "queue"
                ? c.QueueUnbindAsync(destination, source, "")
                : c.ExchangeUnbindAsync(destination, source, "")));
        }
        Assert.NotEmpty(attacks);

        var tried = 0;
        foreach (var credential in network.Broker.Credentials)
        {
            var read = (string)definitions["permissions"]!.AsArray().Single(p => (string)p!["user"]! == credential.Username)!["read"]!;
            var own = queues.Single(q => System.Text.RegularExpressions.Regex.IsMatch(q, read));
            foreach (var (target, what, action) in attacks.Where(a => OwnerOf(a.Target) != own))
            {
                // A connection each: a channel number the broker is still closing (after the
                // previous 403) cannot be opened again at once (504 CHANNEL_ERROR).
                await using var attacker = await network.Broker.ConnectAsync(credential.Username, credential.Password);
                await AssertRefused(attacker, action, $"{credential.InstituteId}: {what}");
                tried++;
            }
            await using var connection = await network.Broker.ConnectAsync(credential.Username, credential.Password);
            // It still reads its own queue and sends to every peer.
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeclarePassiveAsync(own);
        }
        Assert.True(tried >= network.Broker.Credentials.Count * (network.Broker.Credentials.Count - 1) * 10, $"only {tried} attacks tried");
        // Every queue, exchange and binding is where it was.
        await using var admin = await network.Broker.ConnectAsAdminAsync();
        foreach (var queue in queues)
        {
            await using var channel = await admin.CreateChannelAsync();
            await channel.QueueDeclarePassiveAsync(queue);
        }
    }

    /// <summary>
    /// Bounds the broker keeps whatever an institute sends: no message above 16 MiB is accepted
    /// (the channel is closed with 406), and every inbox queue is under the policy that refuses
    /// publishes past 2 GiB rather than filling the broker's disk.
    /// </summary>
    [Fact]
    public async Task The_broker_refuses_a_message_over_its_size_limit_and_bounds_every_inbox_queue()
    {
        var sender = network.Broker.Credentials[0];
        var target = (string)network.Broker.Definitions["queues"]!.AsArray()[^1]!["name"]!;
        await using var connection = await network.Broker.ConnectAsync(sender.Username, sender.Password);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await Assert.ThrowsAnyAsync<Exception>(async () =>
            await channel.BasicPublishAsync($"{target}.deliveries", "", mandatory: true, new BasicProperties(), new byte[17 * 1024 * 1024]));
        Assert.Equal((ushort)406, channel.CloseReason?.ReplyCode);

        foreach (var queue in network.Broker.Definitions["queues"]!.AsArray().Select(q => (string)q!["name"]!))
        {
            var described = await network.Broker.QueueAsync(queue);
            Assert.Equal("exchange-inbox-limits", (string?)described["policy"]);
            Assert.Equal(BrokerTopology.InboxMaxLengthBytes, (long)described["effective_policy_definition"]!["max-length-bytes"]!);
            Assert.Equal("reject-publish", (string?)described["effective_policy_definition"]!["overflow"]);
        }
        // The error queues MassTransit creates on the first fault fall under their own bound.
        var errorPolicy = network.Broker.Definitions["policies"]!.AsArray().Single(p => (string)p!["name"]! == "exchange-error-limits")!;
        Assert.All(network.Broker.Definitions["queues"]!.AsArray().Select(q => (string)q!["name"]!), queue =>
        {
            Assert.Matches((string)errorPolicy["pattern"]!, queue + "_error");
            Assert.Matches((string)errorPolicy["pattern"]!, queue + "_skipped");
        });
        Assert.Equal("drop-head", (string?)errorPolicy["definition"]!["overflow"]);
    }

    private static async Task AssertRefused(IConnection connection, Func<IChannel, Task> action, string what)
    {
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            await action(channel);
        }
        catch (OperationInterruptedException e)
        {
            Assert.True(e.ShutdownReason?.ReplyCode == 403, $"{what}: refused with {e.ShutdownReason?.ReplyCode} {e.ShutdownReason?.ReplyText}, not 403");
            return;
        }
        Assert.Fail($"{what}: allowed");
    }
}

using Exchange.Node.Network;
using Exchange.Node.Settings;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

public static class DisclosureExtensions
{
    public static IHostApplicationBuilder AddDisclosure(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetOptions<BrokerOptions>(BrokerOptions.Section);
        builder.Services.AddOptions<BrokerOptions>().BindSection(BrokerOptions.Section)
            .Validate(o => o.Transport != BrokerTransport.RabbitMq || (o.Username.Length > 0 && o.Password.Length > 0),
                "Broker:Username and Broker:Password are required for RabbitMQ: each institute has its own broker user")
            .Validate(o => o.OutboxBatchSize is > 0 and <= 5000, "Broker:OutboxBatchSize must be between 1 and 5000")
            .Validate(o => o.SendTimeout > TimeSpan.Zero, "Broker:SendTimeout must be positive")
            .Validate(o => o.ReceiptTimeout > TimeSpan.Zero, "Broker:ReceiptTimeout must be positive")
            .Validate(o => o.MaxReceiptWait >= o.ReceiptTimeout, "Broker:MaxReceiptWait must be at least Broker:ReceiptTimeout")
            .Validate(o => o.GiveUpAfter >= o.ReceiptTimeout, "Broker:GiveUpAfter must be at least Broker:ReceiptTimeout")
            .ValidateOnStart();

        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddScoped<EnvelopeFactory>();
        builder.Services.AddScoped<DisclosureWriter>();
        builder.Services.AddScoped<InboxProcessor>();
        builder.Services.AddHostedService<OutboxDispatcher>();
        builder.Services.AddHostedService<EmbargoReleaser>();
        builder.Services.AddHealthChecks().AddCheck<ReceiptHealthCheck>("receipts", tags: ["alert"]);

        if (options.Transport == BrokerTransport.InMemory)
        {
            builder.Services.TryAddSingleton<InMemoryBroker>();
            builder.Services.AddSingleton<IEnvelopeTransport, InMemoryEnvelopeTransport>();
            builder.Services.AddHostedService<InMemoryInboxConnection>();
            return builder;
        }

        builder.Services.AddSingleton<IEnvelopeTransport, RabbitMqEnvelopeTransport>();
        builder.Services.AddMassTransit(bus =>
        {
            // MassTransit would otherwise report usage to its vendor over the internet; a node
            // talks to its broker, its database and its staff, nobody else.
            bus.DisableUsageTelemetry();
            bus.AddConsumer<DeliverEnvelopeConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var broker = context.GetRequiredService<IOptions<BrokerOptions>>().Value;
                var queue = context.GetRequiredService<PeerDirectory>().Get(context.GetRequiredService<IOptions<NodeOptions>>().Value.InstituteId).Queue;
                rabbit.Host(broker.Host, broker.Port, broker.VirtualHost, host =>
                {
                    host.Username(broker.Username);
                    host.Password(broker.Password);
                    // A send completes only when the broker has the message: the outbox marks nothing sent before that.
                    host.PublisherConfirmation = true;
                    if (broker.ClusterNodes.Length > 0)
                    {
                        // Quorum queues survive the loss of a minority of the cluster; the connection
                        // moves to another node rather than waiting for the lost one to return.
                        host.UseCluster(cluster =>
                        {
                            foreach (var node in broker.ClusterNodes)
                            {
                                cluster.Node(node);
                            }
                        });
                    }
                    if (broker.UseTls)
                    {
                        host.UseSsl(ssl => ssl.ServerName = broker.Host);
                    }
                });
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    // Only envelopes sent to this institute's deliveries exchange reach its queue; no
                    // message-type exchanges, which a peer could otherwise publish into.
                    endpoint.ConfigureConsumeTopology = false;
                    // A fault is recorded in our audit log and dead-lettered; MassTransit's Fault<T> events would go
                    // to an exchange no institute may write to, and nobody consumes them.
                    endpoint.PublishFaults = false;
                    endpoint.Bind(BrokerOptions.DeliveriesExchange(queue));
                    endpoint.PrefetchCount = broker.PrefetchCount;
                    endpoint.UseMessageRetry(retry =>
                    {
                        // A rejected envelope will not improve with time: straight to the _error queue.
                        retry.Ignore<EnvelopeRejectedException>();
                        retry.Exponential(6, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(500));
                    });
                    endpoint.ConfigureConsumer<DeliverEnvelopeConsumer>(context);
                });
            });
        });
        return builder;
    }
}

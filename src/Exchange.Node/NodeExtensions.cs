using Exchange.Node.Api;
using Exchange.Node.Audit;
using Exchange.Node.Disclosure;
using Exchange.Node.Findings;
using Exchange.Node.Identity;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.Node.Secrets;
using Exchange.Node.Settings;
using Exchange.Node.Startup;
using Exchange.Node.Subscriptions;
using Exchange.Node.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Exchange.Node;

/// <summary>The composition root of a node, one call per feature.</summary>
public static class NodeExtensions
{
    // Api.RequestFrameReader refuses any message over Findings:Limits:MaxRequestBytes (4 MiB) from its
    // length prefix, naming its size and the limit; this is the transport's backstop behind it.
    private const int MaxReceiveMessageBytes = 6 * 1024 * 1024;

    public static WebApplicationBuilder AddExchangeNode(this WebApplicationBuilder builder)
    {
        builder.AddStartRefusals();
        builder.Services.AddOptions<NodeOptions>().BindSection(NodeOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.InstituteId), "Node:InstituteId is required (this node's institute id in the network manifest)")
            .Validate(o => string.IsNullOrWhiteSpace(o.InstituteId) || NodeOptions.InstituteIdPattern().IsMatch(o.InstituteId),
                "Node:InstituteId must be lower-case letters, digits and '-', starting with a letter, at most 32 characters")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ManifestPath), "Node:ManifestPath is required (the network manifest file)")
            .Validate(o => o.HealthPort is null or (> 0 and <= 65535), "Node:HealthPort must be a port number between 1 and 65535")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddManifest();
        builder.AddPersistence();
        builder.AddDataProtection();
        builder.AddPlaceholderSecretCheck();
        builder.AddIdentity();
        builder.AddNetwork();
        builder.AddAudit();
        builder.AddFindings();
        builder.AddDisclosure();
        builder.AddSubscriptions();
        builder.AddTelemetry();
        builder.AddRateLimits();

        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = MaxReceiveMessageBytes;
            grpc.EnableDetailedErrors = builder.Environment.IsDevelopment();
            grpc.Interceptors.Add<Api.TransientFailureInterceptor>();
        });
        builder.Services.AddOptions<Grpc.AspNetCore.Server.GrpcServiceOptions>().Configure<Exchange.Domain.Findings.FindingLimits>((grpc, limits) =>
            grpc.CompressionProviders = [new Api.BoundedGzipProvider(limits.MaxRequestBytes)]);
        builder.Services.AddGrpcReflection();
        builder.Services.AddHostedService<Api.PlainHttpGuard>();
        // "ready": can serve (database, broker); the rest (witness alerts) degrades /healthz without
        // taking the node out of service.
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        builder.Services.AddGrpcHealthChecks();
        return builder;
    }

    public static WebApplication MapExchangeNode(this WebApplication app)
    {
        var node = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value;
        app.Use(async (context, next) =>
        {
            if (Api.PlainHttpGuard.Refuses(context.Request.IsHttps, context.Connection.LocalIpAddress, context.Connection.LocalPort, node))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("plain HTTP beyond loopback is refused: use HTTPS (or set Node:AllowPlainHttp where TLS ends in front of the node)");
                return;
            }
            await next(context);
        });
        if (node.HealthPort is { } healthPort)
        {
            // The probes' port is plain HTTP/1.1 and may face the network: it answers health and
            // nothing else, so no token request or finding ever travels over it.
            app.Use(async (context, next) =>
            {
                if (context.Connection.LocalPort == healthPort && !context.Request.Path.StartsWithSegments("/healthz"))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                await next(context);
            });
        }
        app.UseRateLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRequestChecks();
        app.MapIdentity();
        app.MapFindings();
        app.MapNetwork();
        app.MapAudit();
        app.MapSubscriptions();
        app.MapGrpcReflectionService().AllowAnonymous();
        app.MapGrpcHealthChecksService().AllowAnonymous();
        app.MapHealthChecks("/healthz").AllowAnonymous();
        app.MapHealthChecks("/healthz/ready", new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).AllowAnonymous();
        return app;
    }

    private sealed class DatabaseHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
            return await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("the database cannot be reached");
        }
    }
}

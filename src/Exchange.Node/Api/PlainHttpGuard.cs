using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Exchange.Node.Startup;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Api;

/// <summary>
/// Refuses plain HTTP beyond loopback, unless <see cref="NodeOptions.AllowPlainHttp"/> says TLS ends
/// in front of the node. At start, once the server has bound its addresses (so every way of naming
/// them, Kestrel endpoints, --urls, ASPNETCORE_URLS, ports, is covered), the node stops; and
/// because other services have started by then, every request is checked too, so nothing is
/// served in clear in the moment before it stops.
/// </summary>
public sealed class PlainHttpGuard(IServer server, IOptions<NodeOptions> node, ILogger<PlainHttpGuard> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => IsPlainBeyondLoopback(a) && Port(a) != node.Value.HealthPort).ToList();
        if (exposed.Count == 0)
        {
            return Task.CompletedTask;
        }
        if (node.Value.AllowPlainHttp)
        {
            logger.LogWarning("Plain HTTP beyond loopback on {Addresses}, allowed by Node:AllowPlainHttp: TLS must end in front of this node", string.Join(", ", exposed));
            return Task.CompletedTask;
        }
        throw new StartRefusedException("urls / Kestrel:Endpoints",
            $"the node listens for plain HTTP on {string.Join(", ", exposed)}, beyond loopback: client secrets, tokens and findings would cross the network in clear",
            "serve HTTPS (Kestrel:Endpoints:<name>:Url=https://…, with :Certificate:Path and :Certificate:Password), listen on loopback only, " +
            "or, where TLS ends in front of the node, set Node:AllowPlainHttp=true");
    }

    private static int? Port(string address) =>
        Uri.TryCreate(address.Replace("://+:", "://0.0.0.0:").Replace("://*:", "://0.0.0.0:"), UriKind.Absolute, out var uri) ? uri.Port : null;

    /// <summary>Whether a request arrived in clear from beyond loopback on a port that may not take one.</summary>
    public static bool Refuses(bool isHttps, IPAddress? localAddress, int localPort, NodeOptions node) =>
        !isHttps && !node.AllowPlainHttp && localPort != node.HealthPort
        // No local address: the in-process test server, which has no network at all.
        && localAddress is not null
        // Dual-mode sockets report IPv4 as ::ffff:a.b.c.d.
        && !IPAddress.IsLoopback(localAddress.IsIPv4MappedToIPv6 ? localAddress.MapToIPv4() : localAddress);

    public static bool IsPlainBeyondLoopback(string address)
    {
        var scheme = address.Split("://", 2)[0];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        // Kestrel reports wildcards as http://[::]:80, http://0.0.0.0:80 or, unresolved, http://+:80 and http://*:80.
        var host = address.Split("://", 2)[1].Split('/')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']')] : host.Split(':')[0];
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return !IPAddress.TryParse(host, out var ip) || !IPAddress.IsLoopback(ip);
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

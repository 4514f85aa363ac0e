using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Node.Api;
using Exchange.Testing;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;

namespace Exchange.Node.Tests;

/// <summary>
/// gRPC between staff tools and the node: HTTP/2 over TLS with the certificate named in
/// configuration; plain HTTP only on loopback, or where the operator says TLS ends in front.
/// </summary>
public sealed class TransportSecurityTests : TestWorkspace
{
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us");

    private NodeHost Node(params (string Key, string Value)[] settings) =>
        new("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));

    [Theory]
    [InlineData("http://0.0.0.0:80", true)]
    [InlineData("http://[::]:8080", true)]
    [InlineData("http://+:8080", true)]
    [InlineData("http://*:8080", true)]
    [InlineData("http://10.1.2.3:5000", true)]
    [InlineData("http://node.example:5000", true)]
    [InlineData("http://127.0.0.1:5000", false)]
    [InlineData("http://127.8.9.10:5000", false)]
    [InlineData("http://[::1]:5000", false)]
    [InlineData("http://localhost:5000", false)]
    [InlineData("https://0.0.0.0:443", false)]
    [InlineData("https://[::]:8443", false)]
    public void Plain_http_beyond_loopback_is_told_apart(string address, bool exposed) =>
        Assert.Equal(exposed, PlainHttpGuard.IsPlainBeyondLoopback(address));

    [Theory]
    [InlineData(false, "10.1.2.3", 5000, false, null, true)]
    [InlineData(false, "::ffff:10.1.2.3", 5000, false, null, true)]
    [InlineData(true, "10.1.2.3", 5000, false, null, false)]
    [InlineData(false, "127.0.0.1", 5000, false, null, false)]
    [InlineData(false, "::1", 5000, false, null, false)]
    [InlineData(false, "::ffff:127.0.0.1", 5000, false, null, false)]
    [InlineData(false, "10.1.2.3", 5000, true, null, false)]
    [InlineData(false, "10.1.2.3", 8081, false, 8081, false)]
    [InlineData(false, "10.1.2.3", 8080, false, 8081, true)]
    [InlineData(false, null, 0, false, null, false)]
    public void Every_request_in_clear_from_beyond_loopback_is_refused_unless_allowed(bool https, string? local, int port, bool allow, int? healthPort, bool refused) =>
        Assert.Equal(refused, PlainHttpGuard.Refuses(https, local is null ? null : IPAddress.Parse(local), port,
            new NodeOptions { AllowPlainHttp = allow, HealthPort = healthPort }));

    [Fact]
    public async Task Staff_tools_reach_the_node_over_tls_with_the_certificate_from_configuration()
    {
        var port = NodeHost.FreePort();
        using var certificate = SelfSigned();
        var pfx = Path.Combine(Folder, "node.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"));
        await using var host = Node(
            ("Kestrel:Endpoints:Tls:Url", $"https://127.0.0.1:{port}"),
            ("Kestrel:Endpoints:Tls:Protocols", "Http1AndHttp2"),
            ("Kestrel:Endpoints:Tls:Certificate:Path", pfx),
            ("Kestrel:Endpoints:Tls:Certificate:Password", "pfx-password"),
            ("Identity:RequireHttps", "true"));
        await using var app = host.CreateApplication(kestrel: true);
        await app.StartAsync();

        // The client trusts exactly this certificate: a connection proves the node served it.
        string? served = null;
        SocketsHttpHandler Pinned() => new()
        {
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, cert, _, _) => (served = cert?.GetCertHashString()) == certificate.Thumbprint,
            },
        };
        using var handler = Pinned();
        using var channel = GrpcChannel.ForAddress($"https://127.0.0.1:{port}", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(certificate.Thumbprint, served);

        // With Identity:RequireHttps on, a token is issued over TLS.
        using var http = new HttpClient(Pinned()) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
        using var token = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = TestClients.Reader,
            ["client_secret"] = TestClients.Secret(TestClients.Reader),
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Contains("access_token", await token.Content.ReadAsStringAsync());
        await app.StopAsync();
    }

    [Fact]
    public async Task A_node_refuses_to_listen_for_plain_http_beyond_loopback_and_says_how_to_fix_it()
    {
        await using var host = Node(("urls", $"http://0.0.0.0:{NodeHost.FreePort()}"));

        var e = await host.StartErrorAsync(kestrel: true);

        Assert.NotNull(e);
        Assert.Contains("plain HTTP", e.Message);
        Assert.Contains("Node:AllowPlainHttp", e.Message);
        Assert.Contains("Kestrel:Endpoints", e.Message);
    }

    [Fact]
    public async Task Plain_http_beyond_loopback_starts_when_the_operator_says_tls_ends_in_front()
    {
        await using var host = Node(("urls", $"http://0.0.0.0:{NodeHost.FreePort()}"), ("Node:AllowPlainHttp", "true"));

        Assert.Null(await host.StartErrorAsync(kestrel: true));
    }

    [Fact]
    public async Task The_health_port_may_face_the_network_in_plain_http_because_it_serves_health_and_nothing_else()
    {
        var grpcPort = NodeHost.FreePort();
        var healthPort = NodeHost.FreePort();
        await using var host = Node(
            ("Kestrel:Endpoints:Grpc:Url", $"http://127.0.0.1:{grpcPort}"),
            ("Kestrel:Endpoints:Grpc:Protocols", "Http2"),
            ("Kestrel:Endpoints:Health:Url", $"http://0.0.0.0:{healthPort}"),
            ("Kestrel:Endpoints:Health:Protocols", "Http1"),
            ("Node:HealthPort", healthPort.ToString()));
        await using var app = host.CreateApplication(kestrel: true);
        await app.StartAsync();

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{healthPort}") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        using var token = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = TestClients.Reader,
            ["client_secret"] = TestClients.Secret(TestClients.Reader),
        }));
        Assert.Equal(HttpStatusCode.NotFound, token.StatusCode);
        await app.StopAsync();
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=exchange-node-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}

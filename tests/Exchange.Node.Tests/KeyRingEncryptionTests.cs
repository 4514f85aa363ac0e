using System.Security.Cryptography;
using Exchange.Envelopes;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Tests;

/// <summary>
/// The Data Protection key ring (which seals findings, the node's private keys and its tokens) is
/// encrypted with a key-encryption certificate kept outside the database: a copy of the database
/// alone opens nothing; a ring written in clear before is encrypted at the next start; a ring
/// encrypted with another certificate stops the start with the setting named.
/// </summary>
public abstract class KeyRingEncryptionTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");

    protected abstract string Provider { get; }

    [Fact]
    public async Task Every_key_of_the_ring_is_stored_encrypted_so_a_copy_of_the_database_alone_opens_no_private_key()
    {
        await using var database = await TestDatabase.CreateAsync(Provider, _directory);
        await using (var node = Node(database))
        {
            using var channel = node.CreateChannel();
            await SubmitAsync(channel, await node.AuthAsync(TestClients.Submitter));
        }

        var ring = await KeyRingAsync(database);
        Assert.NotEmpty(ring);
        Assert.All(ring, xml =>
        {
            Assert.Contains("encryptedSecret", xml);
            Assert.DoesNotContain("requiresEncryption=\"true\"", xml);
        });
        var sealedKey = await SealedSigningKeyAsync(database);
        Assert.Throws<CryptographicException>(() => Unprotect(database, sealedKey, certificate: null));
        // The same read with the certificate opens it: the refusal above is the missing certificate's doing.
        using var certificate = KeyEncryptionCertificate.Load(TestKeyEncryption.CertificatePath);
        Assert.NotEmpty(Unprotect(database, sealedKey, certificate));
    }

    [Fact]
    public async Task A_ring_written_in_clear_before_a_certificate_was_given_is_encrypted_at_the_next_start_and_what_it_sealed_stays_readable()
    {
        await using var database = await TestDatabase.CreateAsync(Provider, _directory);
        // A Development node needs no certificate: it writes its ring in clear, as nodes did before.
        SubmitFindingResponse submitted;
        await using (var development = Node(database, ("DataProtection:CertificatePath", "")))
        await using (var app = development.CreateApplication(environment: "Development", logs: false))
        {
            await app.StartAsync();
            using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = app.GetTestServer().CreateHandler() });
            submitted = await SubmitAsync(channel, await TokenAsync(app));
            await app.StopAsync();
        }
        Assert.Contains(await KeyRingAsync(database), xml => xml.Contains("requiresEncryption=\"true\""));

        await using var node = Node(database);
        using var nodeChannel = node.CreateChannel();
        var read = await new FindingService.FindingServiceClient(nodeChannel)
            .GetFindingAsync(new GetFindingRequest { Id = submitted.Finding.Id }, await node.AuthAsync(TestClients.Submitter));

        Assert.Equal(submitted.Finding.Content, read.Finding.Content);
        Assert.All(await KeyRingAsync(database), xml => Assert.DoesNotContain("requiresEncryption=\"true\"", xml));
        Assert.Throws<CryptographicException>(() => Unprotect(database, SealedSigningKeyAsync(database).GetAwaiter().GetResult(), certificate: null));
    }

    [Fact]
    public async Task A_ring_encrypted_with_another_certificate_or_with_none_given_stops_the_start_naming_the_setting_and_adds_no_key()
    {
        await using var database = await TestDatabase.CreateAsync(Provider, _directory);
        await using (var node = Node(database))
        {
            using var channel = node.CreateChannel();
            await SubmitAsync(channel, await node.AuthAsync(TestClients.Submitter));
        }
        var before = await KeyRingAsync(database);
        using var ours = KeyEncryptionCertificate.Load(TestKeyEncryption.CertificatePath);
        var thumbprint = ours.GetCertHashString(HashAlgorithmName.SHA256);

        await using var other = Node(database, ("DataProtection:CertificatePath", TestKeyEncryption.CreateAnother(Path.Combine(_directory, "other"))));
        var wrong = await other.StartErrorAsync();
        await using var development = Node(database, ("DataProtection:CertificatePath", ""));
        var none = await development.StartErrorAsync(environment: "Development");

        foreach (var refusal in new[] { wrong, none })
        {
            Assert.IsType<OptionsValidationException>(refusal);
            Assert.Contains("DataProtection:CertificatePath", refusal.Messages());
            Assert.Contains(thumbprint, refusal.Messages());
        }
        Assert.Equal(before, await KeyRingAsync(database));
    }

    // Errors only: the warnings these nodes give (a ring in clear, keys encrypted at start) are what the tests bring about.
    private NodeHost Node(TestDatabase database, params (string Key, string Value)[] settings) =>
        new("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, _directory,
            settings: settings.Append((Key: "Logging:LogLevel:Default", Value: "Error")).Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));

    private static Task<SubmitFindingResponse> SubmitAsync(GrpcChannel channel, Grpc.Core.Metadata auth) =>
        new FindingService.FindingServiceClient(channel).SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, institutes: ["us"]), auth).ResponseAsync;

    private static async Task<Grpc.Core.Metadata> TokenAsync(WebApplication app)
    {
        using var http = app.GetTestClient();
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = TestClients.Submitter,
            ["client_secret"] = TestClients.Secret(TestClients.Submitter),
        }));
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return new() { { "authorization", $"Bearer {json.RootElement.GetProperty("access_token").GetString()}" } };
    }

    private static async Task<List<string>> KeyRingAsync(TestDatabase database)
    {
        await using var db = database.Open();
        return await db.DataProtectionKeys.OrderBy(k => k.Id).Select(k => k.Xml!).ToListAsync();
    }

    private static async Task<byte[]> SealedSigningKeyAsync(TestDatabase database)
    {
        await using var db = database.Open();
        return await db.NodeKeys.Where(k => k.Purpose == NodeKeyRecord.Signing).OrderBy(k => k.Id).Select(k => k.ProtectedPrivateKey).FirstAsync();
    }

    // What someone holding a copy of the database can do: Data Protection over its key ring, with
    // the node's application name, and the certificate or not.
    private static byte[] Unprotect(TestDatabase database, byte[] sealedKey, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate)
    {
        var services = new ServiceCollection();
        services.AddScoped(_ => database.Open());
        var dataProtection = services.AddDataProtection().SetApplicationName("exchange-node-uk").PersistKeysToDbContext<NodeDbContext>().DisableAutomaticKeyGeneration();
        if (certificate is not null)
        {
            dataProtection.UnprotectKeysWithAnyCertificate(certificate);
        }
        using var provider = services.BuildServiceProvider();
        return provider.GetDataProtectionProvider().CreateProtector("Exchange.Node.Keys.v1").Unprotect(sealedKey);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class KeyRingEncryptionTests_on_Sqlite : KeyRingEncryptionTests
{
    protected override string Provider => TestDatabase.Sqlite;
}

public sealed class KeyRingEncryptionTests_on_Postgres : KeyRingEncryptionTests
{
    protected override string Provider => TestDatabase.Postgres;
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Envelopes;
using Exchange.Testing;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Tests;

/// <summary>
/// Outside Development a node starts only with a key-encryption key for its key ring
/// (DataProtection:CertificatePath), in any of the forms operators have: PEM with the key inside or
/// beside it, PKCS#12 with a password. Anything else stops it with one message naming the setting
/// and saying how to make one.
/// </summary>
public sealed class KeyEncryptionKeyTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us");

    public KeyEncryptionKeyTests() => OwnerOnlyFile.CreateDirectory(_directory);

    public static TheoryData<string, string> Unusable => new()
    {
        { "Production", "none" },
        { "Testing", "none" },
        { "Staging", "none" },
        { "Testing", "a file that is not there" },
        { "Testing", "a file that is not a certificate" },
        { "Testing", "a certificate without its private key" },
        { "Testing", "a certificate with an ECDSA key" },
    };

    [Theory]
    [MemberData(nameof(Unusable))]
    public async Task A_node_outside_Development_without_a_usable_key_encryption_key_refuses_to_start_naming_the_setting(string environment, string certificate)
    {
        var path = certificate switch
        {
            "none" => "",
            "a file that is not there" => Path.Combine(_directory, "missing.pem"),
            "a file that is not a certificate" => Write("garbage.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"),
            "a certificate without its private key" => Write("public.pem", SelfSigned(RSA.Create(2048)).ExportCertificatePem()),
            _ => Write("ecdsa.pem", EcdsaPem()),
        };
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, _directory);
        await using var node = Node(database, [new("DataProtection:CertificatePath", path)]);

        var e = await node.StartErrorAsync(environment: environment);

        var refusal = Assert.IsType<OptionsValidationException>(e);
        Assert.Contains("DataProtection:CertificatePath", refusal.Message);
        Assert.Contains("exchange keys data-protection-certificate", refusal.Message);
        Assert.False(File.Exists(Path.Combine(_directory, "node.db")), "a refused node touched its database");
    }

    public static TheoryData<string> Usable => ["PEM with its key", "PEM with the key in a file of its own", "PKCS#12 with a password"];

    [Theory]
    [MemberData(nameof(Usable))]
    public async Task A_node_starts_with_a_key_encryption_key_in_each_form_operators_have(string form)
    {
        using var certificate = KeyEncryptionCertificate.Create();
        using var rsa = certificate.GetRSAPrivateKey()!;
        IEnumerable<KeyValuePair<string, string?>> settings = form switch
        {
            "PEM with its key" => [new("DataProtection:CertificatePath", Write("both.pem", certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem()))],
            "PEM with the key in a file of its own" =>
            [
                new("DataProtection:CertificatePath", Write("tls.crt", certificate.ExportCertificatePem())),
                new("DataProtection:CertificateKeyPath", Write("tls.key", rsa.ExportPkcs8PrivateKeyPem())),
            ],
            _ =>
            [
                new("DataProtection:CertificatePath", WriteBytes("node.pfx", certificate.Export(X509ContentType.Pkcs12, "a-pfx-password-0123"))),
                new("DataProtection:CertificatePassword", "a-pfx-password-0123"),
            ],
        };
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, _directory);
        await using var node = Node(database, settings);

        Assert.Null(await node.StartErrorAsync(environment: "Production"));
    }

    private NodeHost Node(TestDatabase database, IEnumerable<KeyValuePair<string, string?>> settings) =>
        new("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, _directory, settings: settings);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        OwnerOnlyFile.WriteAllText(path, text);
        return path;
    }

    private string WriteBytes(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        using var file = new FileStream(path, OwnerOnlyFile.Options(FileMode.CreateNew, FileAccess.Write));
        file.Write(bytes);
        return path;
    }

    private static X509Certificate2 SelfSigned(RSA key)
    {
        using (key)
        {
            return new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        }
    }

    private static string EcdsaPem()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem();
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

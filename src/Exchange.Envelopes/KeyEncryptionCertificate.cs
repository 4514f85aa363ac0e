using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Exchange.Envelopes;

/// <summary>
/// The key-encryption key of a node's ASP.NET Core Data Protection key ring: an X.509 certificate
/// with an RSA private key (Data Protection's CertificateXmlEncryptor encrypts each key with W3C XML
/// Encryption: AES-256-CBC under a key transported with RSA PKCS#1 v1.5, so it needs RSA), kept
/// outside the node's database.
/// </summary>
public static class KeyEncryptionCertificate
{
    /// <summary>RSA modulus of a new certificate: 3072 bits, NIST SP 800-57's match for 128-bit security.</summary>
    public const int KeySizeBits = 3072;

    /// <summary>
    /// A new self-signed certificate with an RSA-3072 key. Its validity runs for a century because
    /// nothing checks it: Data Protection decrypts with any certificate it holds, expired or not,
    /// and an expiry date would only suggest a rotation that has to be planned anyway.
    /// </summary>
    public static X509Certificate2 Create(string subject = "CN=Exchange node data protection")
    {
        using var rsa = RSA.Create(KeySizeBits);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment, critical: true));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddYears(100));
    }

    /// <summary>
    /// Makes a new certificate and writes it with its private key as one PEM file (certificate,
    /// then unencrypted PKCS#8 key), mode 0600 from the moment the file exists.
    /// </summary>
    /// <exception cref="IOException"><paramref name="path"/> exists and <paramref name="overwrite"/> is false: it may be the only copy of the key that opens a node's database.</exception>
    public static X509Certificate2 Write(string path, bool overwrite = false)
    {
        var certificate = Create();
        using var rsa = certificate.GetRSAPrivateKey()!;
        OwnerOnlyFile.WriteAllText(path, certificate.ExportCertificatePem() + "\n" + rsa.ExportPkcs8PrivateKeyPem() + "\n", overwrite);
        return certificate;
    }

    /// <summary>
    /// Loads a certificate with its private key: PEM (certificate and key in <paramref name="path"/>,
    /// or the key in <paramref name="keyPath"/>; with <paramref name="password"/>, an encrypted
    /// PKCS#8 key) or PKCS#12 (a .pfx with <paramref name="password"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">The file loads but holds no RSA private key.</exception>
    /// <exception cref="CryptographicException">The file is not a certificate, or the password is wrong.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static X509Certificate2 Load(string path, string? keyPath = null, string? password = null)
    {
        var certificate = IsPem(path)
            ? string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPemFile(path, NullIfEmpty(keyPath))
                : X509Certificate2.CreateFromEncryptedPemFile(path, password, NullIfEmpty(keyPath))
            : X509CertificateLoader.LoadPkcs12FromFile(path, password);
        using var rsa = certificate.GetRSAPrivateKey();
        if (rsa is null)
        {
            var what = certificate.HasPrivateKey ? "its private key is not RSA" : "it carries no private key";
            certificate.Dispose();
            throw new InvalidDataException($"{what}; Data Protection encrypts its keys with RSA, so the certificate needs an RSA private key");
        }
        return certificate;
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path);
        // openssl may put "Bag Attributes" lines before the first block; PKCS#12 is binary DER.
        var buffer = new char[1024];
        var read = reader.ReadBlock(buffer);
        return new string(buffer, 0, read).Contains("-----BEGIN ", StringComparison.Ordinal);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}

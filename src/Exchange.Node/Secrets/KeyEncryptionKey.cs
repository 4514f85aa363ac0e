using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Exchange.Envelopes;

namespace Exchange.Node.Secrets;

/// <summary>
/// The key-encryption certificate as the node loaded it while being composed, or why it has none.
/// <see cref="Problem"/> stops the start (through options validation) with one message naming the setting.
/// </summary>
public sealed class KeyEncryptionKey
{
    /// <summary>How to make a key-encryption key; every message that asks for one says it.</summary>
    public const string HowToMakeOne =
        "Make one with `exchange keys data-protection-certificate --out /etc/exchange/data-protection.pem` (a self-signed RSA-3072 " +
        "certificate and its key in one PEM file, mode 0600), or with openssl: `(umask 077; openssl req -x509 -newkey rsa:3072 -sha256 " +
        "-days 36500 -nodes -subj /CN=exchange-data-protection -keyout data-protection.key -out data-protection.crt)` and " +
        "DataProtection:CertificateKeyPath=data-protection.key. Keep a copy with the database's backups: without it the database cannot be read.";

    private KeyEncryptionKey(X509Certificate2? certificate, string? problem)
    {
        Certificate = certificate;
        Problem = problem;
    }

    /// <summary>The certificate, with its RSA private key; null when none is configured or it did not load.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>Why the node may not start with this configuration; null when it may.</summary>
    public string? Problem { get; }

    /// <summary>SHA-256 of the certificate (hex), by which the key ring's encrypted keys name it.</summary>
    public string? Thumbprint => Certificate?.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary>
    /// Loads the configured certificate. Outside Development a node must have one: the key ring in its
    /// database seals findings, private keys and tokens, and a copy of the database alone must read nothing.
    /// </summary>
    public static KeyEncryptionKey Load(KeyEncryptionOptions options, bool isDevelopment)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            return isDevelopment
                ? new KeyEncryptionKey(null, null)
                : new KeyEncryptionKey(null,
                    $"{KeyEncryptionOptions.Section}:CertificatePath is required outside the Development environment: the Data Protection key ring " +
                    "in the node's database seals its findings, its private keys and its tokens, and must itself be encrypted with a key kept " +
                    $"outside the database. {HowToMakeOne}");
        }
        try
        {
            return new KeyEncryptionKey(KeyEncryptionCertificate.Load(options.CertificatePath, options.CertificateKeyPath, options.CertificatePassword), null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or InvalidDataException)
        {
            return new KeyEncryptionKey(null,
                $"{KeyEncryptionOptions.Section}:CertificatePath '{options.CertificatePath}' cannot be used as the key-encryption key: {e.Message}. " +
                $"It must be a PEM or PKCS#12 certificate with its RSA private key (:CertificateKeyPath, :CertificatePassword). {HowToMakeOne}");
        }
    }
}

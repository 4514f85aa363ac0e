namespace Exchange.Node.Secrets;

/// <summary>
/// Section <c>DataProtection</c>: the key-encryption key of the node's Data Protection key ring,
/// an X.509 certificate with an RSA private key kept outside the database. Required outside the
/// Development environment.
/// </summary>
public sealed class KeyEncryptionOptions
{
    public const string Section = "DataProtection";

    /// <summary>A PEM file (certificate, and its key unless <see cref="CertificateKeyPath"/>) or a PKCS#12 (.pfx) file.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key, when it is not in <see cref="CertificatePath"/>.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>The PKCS#12 file's password, or the encrypted PEM key's.</summary>
    public string? CertificatePassword { get; set; }
}

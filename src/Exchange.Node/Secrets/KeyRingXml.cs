using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Exchange.Node.Secrets;

/// <summary>
/// The parts of a Data Protection key's XML that say whether its secret is stored in clear, and
/// with which certificate it is encrypted. The format is ASP.NET Core's (XmlKeyManager,
/// XmlEncryptionExtensions): a secret element marked <c>requiresEncryption="true"</c> is in clear;
/// an encrypted one is an <c>encryptedSecret</c> element holding W3C XML Encryption whose key
/// transport names the certificate (<c>X509Data/X509Certificate</c>).
/// </summary>
internal static class KeyRingXml
{
    private const string DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private static readonly XName RequiresEncryption = XName.Get("requiresEncryption", DataProtectionNamespace);
    private static readonly XName EncryptedSecret = XName.Get("encryptedSecret", DataProtectionNamespace);
    private static readonly XName DecryptorType = "decryptorType";
    private static readonly XName X509Certificate = XName.Get("X509Certificate", "http://www.w3.org/2000/09/xmldsig#");

    /// <summary>Whether any secret of this key (its master key) is stored in clear.</summary>
    public static bool HasClearSecret(XElement key) => key.DescendantsAndSelf().Any(IsClearSecret);

    /// <summary>SHA-256 thumbprints (hex) of the certificates this key's secrets are encrypted with.</summary>
    public static IEnumerable<string> EncryptingCertificates(XElement key) =>
        key.Descendants(EncryptedSecret).SelectMany(secret => secret.Descendants(X509Certificate))
            .Select(element => X509CertificateLoader.LoadCertificate(Convert.FromBase64String(element.Value.Trim())).GetCertHashString(HashAlgorithmName.SHA256))
            .Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A copy of <paramref name="key"/> with every secret in clear replaced by its encryption, as
    /// Data Protection itself writes a key when it has an encryptor.
    /// </summary>
    public static XElement EncryptClearSecrets(XElement key, IXmlEncryptor encryptor)
    {
        var copy = new XElement(key);
        foreach (var secret in copy.DescendantsAndSelf().Where(e => IsClearSecret(e) && !e.Ancestors().Any(IsClearSecret)).ToList())
        {
            var encrypted = encryptor.Encrypt(new XElement(secret));
            secret.ReplaceWith(new XElement(EncryptedSecret,
                new XAttribute(DecryptorType, encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }
        return copy;
    }

    private static bool IsClearSecret(XElement element) => (bool?)element.Attribute(RequiresEncryption) == true;
}

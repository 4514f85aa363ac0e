using System.Security.Cryptography;
using System.Text.Json;

namespace Exchange.Envelopes;

/// <summary>
/// An institute's two key pairs (ECDSA P-256 for signing, ECDH P-256 for encryption): private halves
/// as PKCS#8, public halves as SubjectPublicKeyInfo. The JSON form is what a node imports on its first
/// start (<c>Node:InitialKeysPath</c>).
/// </summary>
public sealed record InstituteKeyPairs(byte[] SigningPrivateKey, byte[] SigningPublicKey, byte[] EncryptionPrivateKey, byte[] EncryptionPublicKey)
{
    public static InstituteKeyPairs Generate()
    {
        using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var encryption = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return new(signing.ExportPkcs8PrivateKey(), signing.ExportSubjectPublicKeyInfo(), encryption.ExportPkcs8PrivateKey(), encryption.ExportSubjectPublicKeyInfo());
    }

    public static InstituteKeyPairs FromPrivateKeys(byte[] signingPrivateKey, byte[] encryptionPrivateKey)
    {
        using var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(signingPrivateKey, out _);
        using var encryption = ECDiffieHellman.Create();
        encryption.ImportPkcs8PrivateKey(encryptionPrivateKey, out _);
        return new(signingPrivateKey, signing.ExportSubjectPublicKeyInfo(), encryptionPrivateKey, encryption.ExportSubjectPublicKeyInfo());
    }

    /// <summary>
    /// Writes the private halves as JSON, readable by the owner only from the moment the file exists.
    /// An existing file is an error unless <paramref name="overwrite"/>: it may hold the only copy of
    /// a node's keys.
    /// </summary>
    public void WritePrivateKeys(string path, bool overwrite = false) =>
        OwnerOnlyFile.WriteAllText(path, JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["signingPrivateKey"] = Convert.ToBase64String(SigningPrivateKey),
            ["encryptionPrivateKey"] = Convert.ToBase64String(EncryptionPrivateKey),
        }), overwrite);

    public static InstituteKeyPairs ReadPrivateKeys(string path)
    {
        var json = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} is empty");
        return FromPrivateKeys(Convert.FromBase64String(json["signingPrivateKey"]), Convert.FromBase64String(json["encryptionPrivateKey"]));
    }
}

using System.Security.Cryptography;

namespace Exchange.Domain.Network;

public enum KeyUse
{
    Signing,
    Encryption,
}

/// <summary>Public keys as the manifest carries them: base64 SubjectPublicKeyInfo on NIST P-256.</summary>
public static class PublicKeys
{
    public static bool TryValidate(string base64, KeyUse use, out byte[] der, out string problem)
    {
        der = [];
        try
        {
            der = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            problem = "is not base64";
            return false;
        }
        try
        {
            ECParameters parameters;
            if (use == KeyUse.Signing)
            {
                using var key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(der, out _);
                parameters = key.ExportParameters(false);
            }
            else
            {
                using var key = ECDiffieHellman.Create();
                key.ImportSubjectPublicKeyInfo(der, out _);
                parameters = key.ExportParameters(false);
            }
            if (parameters.Curve.Oid.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                problem = $"is on curve {parameters.Curve.Oid.FriendlyName ?? parameters.Curve.Oid.Value}, not P-256";
                return false;
            }
        }
        // A well-formed key on a curve this platform lacks is refused the same way (found by fuzzing).
        catch (Exception e) when (e is CryptographicException or PlatformNotSupportedException or NotSupportedException)
        {
            problem = "is not a P-256 public key (SubjectPublicKeyInfo, DER, base64)";
            return false;
        }
        problem = "";
        return true;
    }
}

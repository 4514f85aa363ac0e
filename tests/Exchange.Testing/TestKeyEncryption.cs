using Exchange.Envelopes;

namespace Exchange.Testing;

/// <summary>
/// The key-encryption certificate every test node's Data Protection key ring is encrypted with (a
/// node outside Development refuses to start without one): made once per test process, written
/// owner-only in a folder of its own, removed when the process ends. One per process rather than
/// per node, so that a second node on the same database (a replica, a restart, a restored backup)
/// opens the ring the first one wrote, as a real institute's replicas share its certificate.
/// </summary>
public static class TestKeyEncryption
{
    private static readonly Lazy<string> Made = new(Create);

    /// <summary>The PEM file (certificate and key) for <c>DataProtection:CertificatePath</c>.</summary>
    public static string CertificatePath => Made.Value;

    /// <summary>A certificate of its own for a test that needs a second, different one.</summary>
    public static string CreateAnother(string directory)
    {
        OwnerOnlyFile.CreateDirectory(directory);
        var path = Path.Combine(directory, $"data-protection-{Guid.NewGuid():N}.pem");
        KeyEncryptionCertificate.Write(path).Dispose();
        return path;
    }

    private static string Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "exchange-tests", $"kek-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var path = CreateAnother(directory);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return path;
    }
}

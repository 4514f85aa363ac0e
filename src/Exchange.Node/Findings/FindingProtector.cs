using System.Security.Cryptography;
using Exchange.V1;
using Google.Protobuf;
using Microsoft.AspNetCore.DataProtection;

namespace Exchange.Node.Findings;

/// <summary>
/// Seals a finding for storage with Data Protection. A random salt is kept inside the sealed
/// payload; the audit log records SHA-256(salt ‖ content), which proves the content without
/// letting anyone guess it from the log.
/// </summary>
public sealed class FindingProtector(IDataProtectionProvider provider)
{
    private const byte Format = 1;
    private const int SaltLength = 16;
    private readonly IDataProtector _protector = provider.CreateProtector("Exchange.Findings.Content.v1");
    private readonly IDataProtector _reasons = provider.CreateProtector("Exchange.Findings.WithdrawalReason.v1");

    public byte[] Protect(Finding finding, out byte[] contentHash)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltLength);
        var body = Stored(finding).ToByteArray();
        var plain = new byte[1 + SaltLength + body.Length];
        plain[0] = Format;
        salt.CopyTo(plain, 1);
        body.CopyTo(plain, 1 + SaltLength);
        contentHash = ContentHash(salt, finding.Content);
        return _protector.Protect(plain);
    }

    public Finding Unprotect(byte[] protectedContent, out byte[] contentHash)
    {
        var plain = _protector.Unprotect(protectedContent);
        if (plain.Length < 1 + SaltLength || plain[0] != Format)
        {
            throw new CryptographicException("Stored finding has an unknown format.");
        }
        var finding = Finding.Parser.ParseFrom(plain.AsSpan(1 + SaltLength));
        contentHash = ContentHash(plain.AsSpan(1, SaltLength), finding.Content);
        return finding;
    }

    public Finding Unprotect(byte[] protectedContent) => Unprotect(protectedContent, out _);

    /// <summary>Seals a withdrawal reason (the origin's free text, as sensitive as the finding it withdraws).</summary>
    public byte[] ProtectReason(string reason) => _reasons.Protect(System.Text.Encoding.UTF8.GetBytes(reason));

    /// <summary>The reason sealed by <see cref="ProtectReason"/>; empty for none.</summary>
    public string UnprotectReason(byte[]? protectedReason) =>
        protectedReason is null ? "" : System.Text.Encoding.UTF8.GetString(_reasons.Unprotect(protectedReason));

    private static byte[] ContentHash(ReadOnlySpan<byte> salt, FindingContent? content)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(salt);
        sha.AppendData((content ?? new FindingContent()).ToByteArray());
        return sha.GetHashAndReset();
    }

    // State, withdrawal and receipt times change after submission and live in columns instead.
    private static Finding Stored(Finding finding)
    {
        var stored = finding.Clone();
        stored.State = FindingState.Unspecified;
        stored.WithdrawnAt = null;
        stored.WithdrawalReason = "";
        stored.ReceivedAt = null;
        return stored;
    }
}

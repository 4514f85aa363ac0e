using System.Security.Cryptography;
using Exchange.Envelopes;

namespace Exchange.Node.Network;

/// <summary>
/// This node's own keys in memory: the signing key and every encryption key it still holds (the
/// current one seals nothing, it opens what peers sealed to us; retired ones open older envelopes).
/// Loaded once at start by <see cref="NodeKeyInitializer"/>.
/// </summary>
public sealed class NodeKeyRing
{
    private readonly Dictionary<string, ECDiffieHellman> _encryptionById = new(StringComparer.Ordinal);
    private ECDsa? _signing;

    public bool IsLoaded => _signing is not null;

    public ECDsa Signing => _signing ?? throw new InvalidOperationException("The node's keys are not loaded yet.");
    public byte[] SigningPublicKey { get; private set; } = [];
    public byte[] SigningKeyId { get; private set; } = [];
    public byte[] EncryptionPublicKey { get; private set; } = [];

    public EnvelopeSealer Sealer => new(Signing, SigningKeyId);

    public ECDiffieHellman? DecryptionKey(ReadOnlyMemory<byte> keyId) =>
        _encryptionById.GetValueOrDefault(Convert.ToHexStringLower(keyId.Span));

    internal void Load(ECDsa signing, IEnumerable<ECDiffieHellman> encryption, ECDiffieHellman current)
    {
        _signing = signing;
        SigningPublicKey = signing.ExportSubjectPublicKeyInfo();
        SigningKeyId = KeyIds.Of(SigningPublicKey);
        foreach (var key in encryption)
        {
            _encryptionById[Convert.ToHexStringLower(KeyIds.Of(key.ExportSubjectPublicKeyInfo()))] = key;
        }
        EncryptionPublicKey = current.ExportSubjectPublicKeyInfo();
    }
}

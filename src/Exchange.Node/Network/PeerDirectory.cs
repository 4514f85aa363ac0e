using System.Security.Cryptography;
using Exchange.Domain.Network;
using Exchange.Envelopes;

namespace Exchange.Node.Network;

/// <summary>The peers' public keys and queues, exactly as the manifest lists them: the only keys this node trusts.</summary>
public sealed class PeerDirectory
{
    private readonly Dictionary<string, Peer> _peers;

    public PeerDirectory(NetworkManifest manifest)
    {
        _peers = manifest.Institutes.ToDictionary(i => i.Id, i =>
        {
            var signing = ECDsa.Create();
            signing.ImportSubjectPublicKeyInfo(i.SigningKey, out _);
            var encryption = ECDiffieHellman.Create();
            encryption.ImportSubjectPublicKeyInfo(i.EncryptionKey, out _);
            return new Peer(i.Id, i.BrokerQueue, signing, KeyIds.Of(i.SigningKey), encryption, KeyIds.Of(i.EncryptionKey));
        }, StringComparer.Ordinal);
    }

    public Peer? Find(string instituteId) => _peers.GetValueOrDefault(instituteId);

    public Peer Get(string instituteId) => _peers[instituteId];

    public (ECDsa Key, byte[] KeyId)? SigningKey(string instituteId) =>
        _peers.TryGetValue(instituteId, out var peer) ? (peer.Signing, peer.SigningKeyId) : null;
}

public sealed record Peer(string Id, string Queue, ECDsa Signing, byte[] SigningKeyId, ECDiffieHellman Encryption, byte[] EncryptionKeyId);

using System.Security.Cryptography;
using Exchange.Domain.Network;
using Exchange.Envelopes;
using Exchange.Node.Persistence;
using Exchange.Node.Startup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Network;

/// <summary>
/// On first start, generates (or imports) the node's ECDSA P-256 signing key and ECDH P-256
/// encryption key and stores the private halves sealed with Data Protection; on every start, loads
/// them and checks them against the manifest, because peers trust only the keys it lists.
/// </summary>
public sealed class NodeKeyInitializer(
    IServiceProvider services,
    NodeKeyRing ring,
    IDataProtectionProvider dataProtection,
    IOptions<NodeOptions> node,
    TimeProvider time,
    ILogger<NodeKeyInitializer> logger) : IHostedService
{
    private readonly IDataProtector _protector = dataProtection.CreateProtector("Exchange.Node.Keys.v1");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        var manifest = services.GetRequiredService<NetworkManifest>();
        var self = manifest.FindInstitute(node.Value.InstituteId)!;
        var matches = self.SigningKey.AsSpan().SequenceEqual(ring.SigningPublicKey) && self.EncryptionKey.AsSpan().SequenceEqual(ring.EncryptionPublicKey);
        if (matches)
        {
            return;
        }
        var problem = $"the keys of this node differ from the manifest's entry for '{self.Id}': peers would refuse everything it sends " +
                      "and it could not open what they send";
        var fix = $"put these in the manifest's entry for '{self.Id}' (or restore the node's database): " +
                  $"signingKey {Convert.ToBase64String(ring.SigningPublicKey)}, encryptionKey {Convert.ToBase64String(ring.EncryptionPublicKey)}";
        if (!node.Value.AllowKeyMismatch)
        {
            throw new StartRefusedException($"institute '{self.Id}' in the manifest (Node:ManifestPath)", problem, fix);
        }
        logger.LogWarning("{Problem}; {Fix} (Node:AllowKeyMismatch is set, so the node starts anyway)", problem, fix);
    }

    /// <summary>Loads the keys, creating them first if the database has none. Used by `keys export` too.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        if (ring.IsLoaded)
        {
            return;
        }
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var keys = await db.NodeKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken);
        if (keys.Count == 0)
        {
            keys = Create(node.Value.InitialKeysPath);
            db.NodeKeys.AddRange(keys);
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Created this node's signing and encryption keys");
        }
        var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(_protector.Unprotect(keys.Last(k => k.Purpose == NodeKeyRecord.Signing && k.RetiredAt is null).ProtectedPrivateKey), out _);
        var encryption = keys.Where(k => k.Purpose == NodeKeyRecord.Encryption).Select(k =>
        {
            var key = ECDiffieHellman.Create();
            key.ImportPkcs8PrivateKey(_protector.Unprotect(k.ProtectedPrivateKey), out _);
            return (Record: k, Key: key);
        }).ToList();
        ring.Load(signing, encryption.Select(e => e.Key), encryption.Last(e => e.Record.RetiredAt is null).Key);
    }

    private List<NodeKeyRecord> Create(string? importPath)
    {
        var keys = string.IsNullOrWhiteSpace(importPath) ? InstituteKeyPairs.Generate() : ReadInitialKeys(importPath);
        var now = time.GetUtcNow();
        return
        [
            new() { Purpose = NodeKeyRecord.Signing, PublicKey = keys.SigningPublicKey, ProtectedPrivateKey = _protector.Protect(keys.SigningPrivateKey), CreatedAt = now },
            new() { Purpose = NodeKeyRecord.Encryption, PublicKey = keys.EncryptionPublicKey, ProtectedPrivateKey = _protector.Protect(keys.EncryptionPrivateKey), CreatedAt = now },
        ];
    }

    private static InstituteKeyPairs ReadInitialKeys(string path)
    {
        try
        {
            return InstituteKeyPairs.ReadPrivateKeys(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or FormatException
                                      or KeyNotFoundException or InvalidDataException or CryptographicException)
        {
            throw new StartRefusedException("Node:InitialKeysPath", $"the keys in '{path}' cannot be read: {e.Message}",
                "point Node:InitialKeysPath at the file `exchange keys generate` wrote (base64 PKCS#8 signingPrivateKey and encryptionPrivateKey), " +
                "or remove the setting to have the node make its own keys", e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

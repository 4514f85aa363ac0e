using System.Xml.Linq;
using Exchange.Node.Persistence;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Secrets;

/// <summary>
/// At start, before anything reads the Data Protection key ring: keys written in clear (by this
/// node before it had a key-encryption certificate) are encrypted with the certificate now
/// configured, so that no master key stays readable in the database; a ring encrypted with a
/// certificate the node was not given stops the start with a message naming the setting, rather
/// than leaving every finding and private key unreadable.
/// </summary>
internal sealed class KeyRingEncryptor(IServiceProvider services, KeyEncryptionKey key, IOptions<KeyManagementOptions> keyManagement, ILogger<KeyRingEncryptor> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (key.Problem is not null)
        {
            // Options validation names the problem; this runs only when the host did not validate first (keys export).
            throw new OptionsValidationException(Options.DefaultName, typeof(KeyEncryptionOptions), [key.Problem]);
        }
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var rows = await db.DataProtectionKeys.ToListAsync(cancellationToken);
        var keys = rows.Select(row => (Row: row, Xml: XElement.Parse(row.Xml ?? "<none />"))).ToList();

        var others = keys.SelectMany(k => KeyRingXml.EncryptingCertificates(k.Xml))
            .Where(thumbprint => !string.Equals(thumbprint, key.Thumbprint, StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (others.Count > 0)
        {
            var configured = key.Certificate is null ? "none is configured" : $"{KeyEncryptionOptions.Section}:CertificatePath is the certificate {key.Thumbprint}";
            throw new OptionsValidationException(Options.DefaultName, typeof(KeyEncryptionOptions),
                [$"The Data Protection key ring in this node's database is encrypted with the certificate {string.Join(", ", others)} (SHA-256), " +
                 $"but {configured}. Set {KeyEncryptionOptions.Section}:CertificatePath (and :CertificateKeyPath or :CertificatePassword) to the " +
                 "certificate the ring was encrypted with: without it no finding, private key or token in the database can be read."]);
        }

        if (key.Certificate is null)
        {
            return;
        }
        var encryptor = keyManagement.Value.XmlEncryptor
            ?? throw new InvalidOperationException("Data Protection has a key-encryption certificate but no XML encryptor");
        var clear = keys.Where(k => KeyRingXml.HasClearSecret(k.Xml)).ToList();
        foreach (var (row, xml) in clear)
        {
            row.Xml = KeyRingXml.EncryptClearSecrets(xml, encryptor).ToString(SaveOptions.DisableFormatting);
        }
        if (clear.Count > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            // An update leaves the old row version in the table's file until it is vacuumed (PostgreSQL)
            // or its page is reused (SQLite, which secure_delete would zero): rewrite the table now so
            // the clear keys leave the live files at once.
            if (db.Database.IsNpgsql())
            {
                // VACUUM FULL still copies a dead row version that a snapshot open in this database
                // could see (an autovacuum ANALYZE of the new tables, another service's query as the
                // node starts). Wait briefly for those to end, and rewrite twice: the second pass
                // drops whatever the first had to keep.
                for (var pass = 0; pass < 2; pass++)
                {
                    for (var wait = 0; wait < 50 && await OtherSnapshotsAsync(db, cancellationToken) > 0; wait++)
                    {
                        await Task.Delay(100, cancellationToken);
                    }
                    await db.Database.ExecuteSqlRawAsync("VACUUM FULL \"DataProtectionKeys\"", cancellationToken);
                    if (pass == 0)
                    {
                        await Task.Delay(500, cancellationToken);
                    }
                }
            }
            else
            {
                await db.Database.ExecuteSqlRawAsync("VACUUM", cancellationToken);
            }
            logger.LogWarning("Encrypted {Count} Data Protection keys that were stored in clear with the key-encryption certificate {Thumbprint}. " +
                "Backups of the database made before now still hold them in clear, as do PostgreSQL's write-ahead log and its archives.", clear.Count, key.Thumbprint);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Sessions of other roles show no xmin to the node's role: this sees what it can, the second pass covers the rest.
    private static Task<int> OtherSnapshotsAsync(NodeDbContext db, CancellationToken cancellationToken) =>
        db.Database.SqlQueryRaw<int>("""
            SELECT count(*)::int AS "Value" FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL
            """).SingleAsync(cancellationToken);
}

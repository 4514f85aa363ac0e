using Exchange.Node.Persistence;
using Exchange.Node.Settings;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Secrets;

public static class DataProtectionExtensions
{
    /// <summary>
    /// ASP.NET Core Data Protection with its key ring in the node's database, the ring encrypted with
    /// the key-encryption certificate of section <c>DataProtection</c> (required outside Development).
    /// </summary>
    public static IHostApplicationBuilder AddDataProtection(this IHostApplicationBuilder builder)
    {
        var node = builder.Configuration.GetOptions<NodeOptions>(NodeOptions.Section);
        var key = KeyEncryptionKey.Load(builder.Configuration.GetOptions<KeyEncryptionOptions>(KeyEncryptionOptions.Section), builder.Environment.IsDevelopment());
        builder.Services.AddSingleton(key);
        builder.Services.AddOptions<KeyEncryptionOptions>().BindSection(KeyEncryptionOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<KeyEncryptionOptions>, KeyEncryptionValidation>();
        // Before Data Protection's own hosted service, which reads the key ring at start: a ring
        // encrypted with another certificate must stop the node before Data Protection, finding no
        // key it can open, writes a new one beside them.
        builder.Services.AddHostedService<KeyRingEncryptor>();

        var dataProtection = builder.Services.AddDataProtection()
            // One application name per institute: its replicas share a key ring, other institutes' nodes
            // on the same database server could never read it.
            .SetApplicationName($"exchange-node-{node.InstituteId}")
            // The key ring lives in the node's own database, so it survives restarts and is shared by replicas.
            .PersistKeysToDbContext<NodeDbContext>();
        if (key.Certificate is not null)
        {
            // The keys in the database are themselves encrypted with a certificate kept outside it:
            // a copy of the database alone then reads no finding, no private key and no token.
            dataProtection.ProtectKeysWithCertificate(key.Certificate);
        }
        return builder;
    }

    private sealed class KeyEncryptionValidation(KeyEncryptionKey key) : IValidateOptions<KeyEncryptionOptions>
    {
        public ValidateOptionsResult Validate(string? name, KeyEncryptionOptions options) =>
            key.Problem is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(key.Problem);
    }
}

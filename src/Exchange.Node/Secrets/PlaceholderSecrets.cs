using System.Data.Common;
using Exchange.Node.Disclosure;
using Exchange.Node.Identity;
using Exchange.Node.Persistence;
using Exchange.Node.Settings;

namespace Exchange.Node.Secrets;

/// <summary>
/// Finds secrets in configuration that are placeholders rather than secrets: any that contains
/// "CHANGE-ME" (in any case, with or without the dash, as the examples in deploy/ have it), in every
/// environment; and, outside Development, any equal to a sample secret this repository publishes.
/// Checked: every client secret, the broker password, the database password (in the connection
/// string) and the key-encryption certificate's password.
/// </summary>
public static class PlaceholderSecrets
{
    /// <summary>
    /// Secrets published in this repository for the Development environment (README's quickstart):
    /// accepted there, on loopback, and refused anywhere else.
    /// </summary>
    public static IReadOnlySet<string> DevelopmentSamples { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "dev-staff-secret-for-loopback-only",
    };

    /// <summary>Each setting that holds a placeholder, with why; empty when there is none.</summary>
    public static IReadOnlyList<string> Find(IConfiguration configuration, bool isDevelopment)
    {
        var identity = configuration.GetOptions<NodeIdentityOptions>(NodeIdentityOptions.Section);
        var secrets = identity.Clients.Select((client, i) => (Setting: $"Identity:Clients:{i}:ClientSecret (client '{client.ClientId}')", Value: (string?)client.ClientSecret))
            .Append(("Broker:Password", configuration.GetOptions<BrokerOptions>(BrokerOptions.Section).Password))
            .Append(("Database:ConnectionString (its Password)", DatabasePassword(configuration.GetOptions<DatabaseOptions>(DatabaseOptions.Section).ConnectionString)))
            .Append(($"{KeyEncryptionOptions.Section}:CertificatePassword", configuration.GetOptions<KeyEncryptionOptions>(KeyEncryptionOptions.Section).CertificatePassword));
        var found = new List<string>();
        foreach (var (setting, value) in secrets)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            if (IsPlaceholder(value))
            {
                found.Add($"{setting} is a placeholder (it contains CHANGE-ME)");
            }
            else if (!isDevelopment && DevelopmentSamples.Contains(value))
            {
                found.Add($"{setting} is the sample secret of appsettings.Development.json, accepted only in the Development environment");
            }
        }
        return found;
    }

    /// <summary>Whether <paramref name="value"/> contains CHANGE-ME, ignoring case, dashes, underscores and spaces.</summary>
    public static bool IsPlaceholder(string value) =>
        new string([.. value.Where(c => c is not ('-' or '_' or ' '))]).Contains("CHANGEME", StringComparison.OrdinalIgnoreCase);

    private static string? DatabasePassword(string connectionString)
    {
        try
        {
            var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
            return builder.TryGetValue("Password", out var password) || builder.TryGetValue("Pwd", out password) ? password as string : null;
        }
        catch (ArgumentException)
        {
            // A connection string that does not parse is the provider's to refuse, with its own message.
            return null;
        }
    }
}

using System.Text.Json;
using Exchange.Node.Persistence;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Network;

/// <summary>
/// <c>Exchange.Node keys export</c>: prepares the database, creates the node's keys if it has none,
/// prints the public halves as JSON for the manifest, and exits without serving. This is how a new
/// node's keys get into the manifest before the node first starts for real.
/// </summary>
public static class KeysExportCommand
{
    public static bool Matches(string[] args) => args is ["keys", "export", ..];

    public static string[] HostArguments(string[] args) => Matches(args) ? args[2..] : args;

    public static async Task<int> RunAsync(WebApplication app)
    {
        // The checks a start makes (settings, the key-encryption key), then what must precede the
        // keys: the database, and the key ring encrypted with the node's certificate.
        app.Services.GetService<IStartupValidator>()?.Validate();
        foreach (var initializer in app.Services.GetServices<IHostedService>().Where(s => s is DatabaseInitializer or Secrets.KeyRingEncryptor))
        {
            await initializer.StartAsync(CancellationToken.None);
        }
        await app.Services.GetRequiredService<NodeKeyInitializer>().LoadAsync(CancellationToken.None);
        var keys = app.Services.GetRequiredService<NodeKeyRing>();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["instituteId"] = app.Services.GetRequiredService<IOptions<NodeOptions>>().Value.InstituteId,
            ["signingKey"] = Convert.ToBase64String(keys.SigningPublicKey),
            ["encryptionKey"] = Convert.ToBase64String(keys.EncryptionPublicKey),
        }, new JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }
}

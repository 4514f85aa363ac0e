using System.Text.Json;
using Exchange.Node.Secrets;
using Exchange.Testing;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Tests;

/// <summary>
/// A secret that is still a placeholder (CHANGE-ME…) stops the node at start, in every environment,
/// with one message naming each such setting; the Development sample secret is accepted only in
/// Development.
/// </summary>
public sealed class PlaceholderSecretTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us");

    public static TheoryData<string> Environments => ["Testing", "Production", "Development"];

    [Theory]
    [MemberData(nameof(Environments))]
    public async Task Every_placeholder_of_the_deploy_examples_stops_the_start_with_one_message_naming_each_setting(string environment)
    {
        // Every setting of deploy/ whose value says CHANGE-ME, as an operator who copied the example would start with it.
        var placeholders = Directory.EnumerateFiles(RepositoryPaths.Combine("deploy"), "*.env", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Where(line => line.Contains('=') && line.Contains("CHANGE-ME", StringComparison.OrdinalIgnoreCase))
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0].Replace("__", ":"), pair => (string?)pair[1]);
        Assert.True(placeholders.Count >= 4, $"expected the k8s example's four placeholders, found {string.Join(", ", placeholders.Keys)}");

        var e = await StartErrorAsync(environment, [.. placeholders, new("Database:Provider", "Postgres")]);

        var refusal = Assert.IsType<OptionsValidationException>(e);
        foreach (var setting in placeholders.Keys)
        {
            Assert.Contains(setting, refusal.Message);
        }
        Assert.Single(refusal.Failures);
    }

    [Theory]
    [InlineData("Identity:Clients:0:ClientSecret", "change-me-at-least-16-characters")]
    [InlineData("Identity:Clients:3:ClientSecret", "0123456789-ChangeMe-0123456789")]
    [InlineData("Broker:Password", "CHANGE_ME")]
    [InlineData("Database:ConnectionString", "Data Source=node.db;Password=change me please")]
    [InlineData("DataProtection:CertificatePassword", "CHANGE-ME")]
    public async Task A_placeholder_in_any_secret_setting_stops_the_start_naming_it(string setting, string value)
    {
        var e = await StartErrorAsync("Testing", [new(setting, value)]);

        Assert.NotNull(e);
        Assert.Contains(e.Messages().Split(" | "), m => m.Contains("Placeholder secrets refused", StringComparison.Ordinal) && m.Contains(setting, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_development_sample_secret_stops_the_start_outside_Development()
    {
        foreach (var sample in PlaceholderSecrets.DevelopmentSamples)
        {
            var e = await StartErrorAsync("Production", [new("Identity:Clients:0:ClientSecret", sample)]);

            Assert.NotNull(e);
            Assert.Contains("Identity:Clients:0:ClientSecret", e.Messages());
            Assert.Contains("accepted only in the Development environment", e.Messages());
        }
    }

    [Fact]
    public void Every_client_secret_in_the_development_settings_is_a_sample_the_check_knows_and_not_a_placeholder()
    {
        // So that README's quickstart starts in Development, and a copy of the file anywhere else does not.
        using var json = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("src", "Exchange.Node", "appsettings.Development.json")));
        var secrets = json.RootElement.GetProperty("Identity").GetProperty("Clients").EnumerateArray()
            .Select(c => c.GetProperty("ClientSecret").GetString()!).ToList();

        Assert.NotEmpty(secrets);
        Assert.All(secrets, secret =>
        {
            Assert.Contains(secret, PlaceholderSecrets.DevelopmentSamples);
            Assert.False(PlaceholderSecrets.IsPlaceholder(secret), secret);
        });
    }

    private async Task<Exception?> StartErrorAsync(string environment, IEnumerable<KeyValuePair<string, string?>> settings)
    {
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, _directory);
        await using var node = new NodeHost("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, _directory, settings: settings);
        return await node.StartErrorAsync(environment: environment);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

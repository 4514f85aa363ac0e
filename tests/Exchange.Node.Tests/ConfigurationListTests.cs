using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Exchange.Domain;
using Exchange.Node.Identity;
using Exchange.Node.Settings;
using Exchange.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Tests;

/// <summary>
/// A list in configuration (a client's scopes, the broker's cluster nodes) comes whole from the
/// highest-priority source that gives it, never merged by index with a lower one's: otherwise a
/// client given one scope by an environment variable keeps the other scopes of the file's client.
/// </summary>
public sealed class ConfigurationListTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public void Every_list_valued_setting_of_every_option_class_of_the_node_comes_whole_from_the_highest_source_that_gives_it()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", Args = [] });
        builder.AddExchangeNode();
        var lists = OptionTypes(builder.Services).SelectMany(type => ListsOf(type, Section(type), o => o)
            .Select(list => (Type: type, list.Path, list.Element, list.Read))).ToList();
        // The test must cover the lists that matter today; new ones are found by the same walk.
        Assert.Contains(lists, l => l.Path == "Identity:Clients:0:Scopes");
        Assert.Contains(lists, l => l.Path == "Broker:ClusterNodes");

        var lower = new Dictionary<string, string?>();
        var higher = new Dictionary<string, string?>();
        foreach (var list in lists)
        {
            for (var i = 0; i < 3; i++)
            {
                lower[$"{list.Path}:{i}"] = Value(list.Element, "low", i);
            }
            higher[$"{list.Path}:0"] = Value(list.Element, "high", 0);
        }
        builder.Configuration.AddInMemoryCollection(lower).AddInMemoryCollection(higher);
        using var app = builder.Build();

        var merged = new List<string>();
        foreach (var list in lists)
        {
            var bound = list.Read(Configured(app.Services, list.Type))?.ToList() ?? [];
            if (!bound.SequenceEqual([Value(list.Element, "high", 0)]))
            {
                merged.Add($"{list.Path} = [{string.Join(", ", bound)}]");
            }
        }
        Assert.True(merged.Count == 0, $"lists put together from two sources: {string.Join("; ", merged)}");
    }

    [Theory]
    // A later source names another client at the same index: nothing of the file's client is kept.
    [InlineData("ci-reader", "ci-reader-secret-0123456789", "findings:read", "ci-reader", "ci-reader-secret-0123456789", null, "findings:read")]
    // A later source gives the file's client one scope: that scope and no other.
    [InlineData(null, null, "findings:read", "dev-staff", "dev-staff-secret-for-loopback-only", "Development staff client", "findings:read")]
    // A later source gives the file's client a secret: the rest stays the file's.
    [InlineData(null, "another-secret-0123456789", null, "dev-staff", "another-secret-0123456789", "Development staff client", "findings:submit findings:read audit:read")]
    // A later source names the same client and one scope.
    [InlineData("dev-staff", null, "audit:read", "dev-staff", "dev-staff-secret-for-loopback-only", "Development staff client", "audit:read")]
    public void A_client_takes_fields_only_from_sources_that_name_it_or_name_no_client(string? id, string? secret, string? scope,
        string expectedId, string expectedSecret, string? expectedName, string expectedScopes)
    {
        var file = new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = "dev-staff",
            ["Identity:Clients:0:ClientSecret"] = "dev-staff-secret-for-loopback-only",
            ["Identity:Clients:0:DisplayName"] = "Development staff client",
            ["Identity:Clients:0:Scopes:0"] = "findings:submit",
            ["Identity:Clients:0:Scopes:1"] = "findings:read",
            ["Identity:Clients:0:Scopes:2"] = "audit:read",
        };
        var later = new Dictionary<string, string?>
        {
            ["Identity:Clients:0:ClientId"] = id,
            ["Identity:Clients:0:ClientSecret"] = secret,
            ["Identity:Clients:0:Scopes:0"] = scope,
        }.Where(p => p.Value is not null);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(file).AddInMemoryCollection(later).Build();

        var client = Assert.Single(configuration.GetOptions<NodeIdentityOptions>(NodeIdentityOptions.Section).Clients);

        Assert.Equal(expectedId, client.ClientId);
        Assert.Equal(expectedSecret, client.ClientSecret);
        Assert.Equal(expectedName, client.DisplayName);
        Assert.Equal(expectedScopes.Split(' '), client.Scopes);
    }

    [Theory]
    [InlineData("{ \"Broker\": { \"ClusterNodes\": [] } }")]
    [InlineData("{ \"Broker\": { \"ClusterNodes\": [ \"rabbit-9\" ] } }")]
    public void A_list_a_later_file_gives_replaces_the_earlier_one_even_when_it_is_empty(string later)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Broker:ClusterNodes:0"] = "rabbit-1", ["Broker:ClusterNodes:1"] = "rabbit-2" })
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(later)))
            .Build();

        var expected = JsonDocument.Parse(later).RootElement.GetProperty("Broker").GetProperty("ClusterNodes").EnumerateArray().Select(e => e.GetString()!);
        Assert.Equal(expected, configuration.GetOptions<Disclosure.BrokerOptions>(Disclosure.BrokerOptions.Section).ClusterNodes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task In_Development_a_client_given_one_scope_by_an_environment_variable_gets_that_scope_and_no_other(bool anotherClient)
    {
        // The node's own appsettings.Development.json (dev-staff, every scope), and an environment
        // variable after it, as an operator would set one. A prefix of its own keeps it from the
        // other tests of this process.
        var prefix = $"EXCHANGE_TEST_{Guid.NewGuid():N}_";
        var variables = anotherClient
            ? new Dictionary<string, string> { ["Identity__Clients__0__ClientId"] = "ci-reader", ["Identity__Clients__0__ClientSecret"] = "ci-reader-secret-0123456789", ["Identity__Clients__0__Scopes__0"] = Scopes.FindingsRead }
            : new Dictionary<string, string> { ["Identity__Clients__0__Scopes__0"] = Scopes.FindingsRead };
        var (client, secret) = anotherClient ? ("ci-reader", "ci-reader-secret-0123456789") : ("dev-staff", DevelopmentSecret());
        foreach (var (name, value) in variables)
        {
            Environment.SetEnvironmentVariable(prefix + name, value);
        }
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions
            {
                EnvironmentName = "Development",
                ContentRootPath = RepositoryPaths.Combine("src", "Exchange.Node"),
                Args = [$"--Node:ManifestPath={RepositoryPaths.Combine("deploy", "network", "manifest.sample.json")}", $"--Node:DataDirectory={_directory}"],
            });
            builder.Configuration.AddEnvironmentVariables(prefix);
            builder.Logging.ClearProviders();
            builder.WebHost.UseTestServer();
            builder.AddExchangeNode();
            await using var app = builder.Build();
            app.MapExchangeNode();
            await app.StartAsync();
            using var http = app.GetTestClient();

            var granted = new List<string>();
            foreach (var scope in Scopes.All)
            {
                if (await TokenAsync(http, client, secret, scope) is null)
                {
                    granted.Add(scope);
                }
            }

            Assert.Equal([Scopes.FindingsRead], granted);
            if (anotherClient)
            {
                // The file's client at that index is not kept beside it with its every scope.
                Assert.Equal("invalid_client", await TokenAsync(http, "dev-staff", DevelopmentSecret(), Scopes.AuditRead));
            }
            await app.StopAsync();
        }
        finally
        {
            foreach (var name in variables.Keys)
            {
                Environment.SetEnvironmentVariable(prefix + name, null);
            }
        }
    }

    // The token endpoint's error for one scope, or null when it issues the token.
    private static async Task<string?> TokenAsync(HttpClient http, string client, string secret, string scope)
    {
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client,
            ["client_secret"] = secret,
            ["scope"] = scope,
        }));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("access_token", out _) ? null : json.RootElement.GetProperty("error").GetString();
    }

    private static string DevelopmentSecret()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("src", "Exchange.Node", "appsettings.Development.json")));
        return json.RootElement.GetProperty("Identity").GetProperty("Clients")[0].GetProperty("ClientSecret").GetString()!;
    }

    // Every option class of the node that configuration is bound to.
    private static IEnumerable<Type> OptionTypes(IServiceCollection services) => services
        .Select(d => d.ServiceType)
        .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IConfigureOptions<>))
        .Select(t => t.GetGenericArguments()[0])
        .Where(t => t.Assembly == typeof(NodeOptions).Assembly)
        .Distinct();

    private static string Section(Type type) =>
        type.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
        ?? throw new InvalidOperationException($"{type} is bound to configuration but has no Section constant naming where");

    private static object Configured(IServiceProvider services, Type type)
    {
        // The options as configured, before validation: the generated values are not valid scopes or hosts.
        var options = Activator.CreateInstance(type)!;
        var configure = typeof(IConfigureOptions<>).MakeGenericType(type);
        foreach (var step in services.GetServices(configure))
        {
            configure.GetMethod("Configure")!.Invoke(step, [options]);
        }
        return options;
    }

    // The paths of the lists in an option class: its own list properties and those of the classes
    // it holds, entries of a list of objects at index 0.
    private static IEnumerable<(string Path, Type Element, Func<object, IEnumerable<string>?> Read)> ListsOf(Type type, string path, Func<object, object?> get)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var here = $"{path}:{property.Name}";
            object? Of(object root) => get(root) is { } parent ? property.GetValue(parent) : null;
            if (ElementOf(property.PropertyType) is not { } element)
            {
                if (IsOurs(property.PropertyType))
                {
                    foreach (var list in ListsOf(property.PropertyType, here, Of))
                    {
                        yield return list;
                    }
                }
                continue;
            }
            if (IsOurs(element))
            {
                foreach (var list in ListsOf(element, $"{here}:0", root => (Of(root) as IEnumerable)?.Cast<object>().FirstOrDefault()))
                {
                    yield return list;
                }
                continue;
            }
            yield return (here, element, root => (Of(root) as IEnumerable)?.Cast<object>().Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)!));
        }
    }

    private static Type? ElementOf(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    private static bool IsOurs(Type type) => type.IsClass && type.Namespace?.StartsWith("Exchange", StringComparison.Ordinal) == true;

    private static string Value(Type element, string layer, int index) =>
        element == typeof(string) ? $"{layer}-{index}"
        : element.IsEnum ? Enum.GetNames(element)[(layer == "high" ? 1 : 0) % Enum.GetNames(element).Length]
        : element.IsPrimitive ? (layer == "high" ? 42 : index + 1).ToString(CultureInfo.InvariantCulture)
        : throw new InvalidOperationException($"make test values for lists of {element} here");

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

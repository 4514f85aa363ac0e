using Microsoft.Extensions.Configuration;

namespace Exchange.Node.Settings;

/// <summary>
/// Reads a configuration section so that no list is ever put together from several sources.
/// <para>
/// .NET configuration merges lists by index: <c>appsettings.Development.json</c> giving a client five
/// scopes and an environment variable <c>Identity__Clients__0__Scopes__0=findings:read</c> make a
/// client with five scopes, the first replaced. Here a list is taken whole from the
/// highest-priority source (appsettings, then the environment's file, user secrets, environment
/// variables, the command line) that defines any element of it, or defines it empty.
/// </para>
/// <para>
/// Entries of a list that are objects with an identity (<c>Identity:Clients</c>, by <c>ClientId</c>)
/// may still take fields from several sources, so that a secret can come from the environment and
/// the rest from a file; but only from sources that name the same entry or name none: the entry an
/// environment variable calls <c>ci-reader</c> takes nothing (no secret, scope or display name)
/// from the file's <c>dev-staff</c> at the same index.
/// </para>
/// </summary>
public static class LayeredConfiguration
{
    /// <summary>Lists whose entries are identified by a field, and that field.</summary>
    private static readonly Dictionary<string, string> EntryKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Identity:Clients"] = "ClientId",
    };

    /// <summary>
    /// The section at <paramref name="path"/> as it reads with every list taken from one source.
    /// A configuration that is not an <see cref="IConfigurationRoot"/> (whose sources are unknown) is
    /// read as it is.
    /// </summary>
    public static IConfigurationSection Resolve(IConfiguration configuration, string path)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return configuration.GetSection(path);
        }
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        Resolve(path, [.. Layers(root)], values);
        return new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(path);
    }

    /// <summary>Binds <typeparamref name="T"/> from <see cref="Resolve"/>; a section that is absent gives the defaults.</summary>
    public static T Get<T>(IConfiguration configuration, string path) where T : new() =>
        Resolve(configuration, path).Get<T>() ?? new T();

    // Lowest priority first. A chained configuration (one host's configuration inside another's) is
    // opened up, so that its own sources count one by one.
    private static IEnumerable<IConfigurationProvider> Layers(IConfigurationRoot root) =>
        root.Providers.SelectMany(provider => provider is ChainedConfigurationProvider { Configuration: IConfigurationRoot inner }
            ? Layers(inner)
            : [provider]);

    private static void Resolve(string path, IReadOnlyList<IConfigurationProvider> layers, Dictionary<string, string?> values)
    {
        var children = layers.SelectMany(layer => ChildKeys(layer, path)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (children.Count == 0)
        {
            for (var i = layers.Count - 1; i >= 0; i--)
            {
                if (layers[i].TryGet(path, out var value))
                {
                    values[path] = value;
                    return;
                }
            }
            return;
        }
        if (!children.All(IsIndex))
        {
            foreach (var child in children)
            {
                Resolve(ConfigurationPath.Combine(path, child), layers, values);
            }
            return;
        }
        if (EntryKeys.TryGetValue(path, out var key))
        {
            foreach (var index in children)
            {
                var entry = ConfigurationPath.Combine(path, index);
                var keyPath = ConfigurationPath.Combine(entry, key);
                var name = layers.Reverse().Select(layer => layer.TryGet(keyPath, out var value) ? value : null).FirstOrDefault(value => value is not null);
                Resolve(entry, [.. layers.Where(layer => !layer.TryGet(keyPath, out var value) || value is null || string.Equals(value, name, StringComparison.Ordinal))], values);
            }
            return;
        }
        // A list of values, or of entries without an identity: all of it from one source, which may
        // define it empty ("Scopes": [] in JSON, an empty environment variable).
        var source = layers.Last(layer => ChildKeys(layer, path).Any() || layer.TryGet(path, out _));
        foreach (var index in ChildKeys(source, path))
        {
            Resolve(ConfigurationPath.Combine(path, index), [source], values);
        }
    }

    private static IEnumerable<string> ChildKeys(IConfigurationProvider layer, string path) =>
        layer.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase);

    private static bool IsIndex(string key) => key.Length > 0 && key.All(char.IsAsciiDigit);
}

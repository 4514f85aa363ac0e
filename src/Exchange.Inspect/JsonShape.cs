namespace Exchange.Inspect;

/// <summary>
/// Which parts of a JSON document to keep: the reader materialises these and skips everything
/// else as it streams, so the size of what it holds depends on the shape, not on the file.
/// </summary>
internal sealed class JsonShape
{
    private readonly Dictionary<string, JsonShape>? _members;

    private JsonShape(ShapeKind kind, Dictionary<string, JsonShape>? members = null, JsonShape? each = null)
    {
        Kind = kind;
        _members = members;
        Each = each;
    }

    public ShapeKind Kind { get; }

    /// <summary>For <see cref="ShapeKind.Array"/> and <see cref="ShapeKind.Map"/>: the shape of every item.</summary>
    public JsonShape? Each { get; }

    /// <summary>A string, number, boolean or null; a container found here is skipped.</summary>
    public static JsonShape Value { get; } = new(ShapeKind.Value);

    /// <summary>An array or object kept only as the number of its items (a number node).</summary>
    public static JsonShape Count { get; } = new(ShapeKind.Count);

    /// <summary>An object of which only the named members are kept.</summary>
    public static JsonShape Object(params (string Name, JsonShape Shape)[] members) =>
        new(ShapeKind.Object, members.ToDictionary(m => m.Name, m => m.Shape, StringComparer.Ordinal));

    /// <summary>An object whose every member is kept, each with the shape given.</summary>
    public static JsonShape Map(JsonShape each) => new(ShapeKind.Map, each: each);

    /// <summary>An array whose every item is kept, each with the shape given.</summary>
    public static JsonShape Array(JsonShape each) => new(ShapeKind.Array, each: each);

    /// <summary>The shape of a member of an object shape, or null to skip it.</summary>
    public JsonShape? Member(string name) => Kind == ShapeKind.Map ? Each : _members?.GetValueOrDefault(name);

    /// <summary>The named members of an object shape, to match a property name without decoding it.</summary>
    public IEnumerable<KeyValuePair<string, JsonShape>> Members => _members ?? [];
}

internal enum ShapeKind
{
    Value,
    Count,
    Object,
    Map,
    Array,
}

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain.Findings;

namespace Exchange.Inspect;

/// <summary>
/// Builds, token by token, the parts of a document that a <see cref="JsonShape"/> asks for, within
/// <see cref="InspectLimits"/>; everything else is only counted through (its depth), never held.
/// </summary>
internal sealed class KeptTree(JsonShape root, InspectLimits limits)
{
    private readonly Stack<Frame> _frames = new();
    private readonly List<TextRepair> _repairs = [];
    private int _skipDepth;
    private int _depth;
    private int _keptValues;
    private long _keptBytes;
    private bool _started;

    public JsonNode? Root { get; private set; }

    public IReadOnlyList<TextRepair> Repairs => _repairs;

    /// <summary>The document's top value has ended.</summary>
    public bool Finished => _started && _frames.Count == 0 && _skipDepth == 0;

    /// <param name="reader">The reader, on the token to take.</param>
    /// <param name="at">Where the reader's buffer starts in the file, for messages.</param>
    public void Take(ref Utf8JsonReader reader, long at)
    {
        var token = reader.TokenType;
        if (token is JsonTokenType.StartObject or JsonTokenType.StartArray && ++_depth > limits.MaxDepth)
        {
            throw new InspectFormatException($"the log nests arrays and objects deeper than {limits.MaxDepth} levels at byte {at + reader.TokenStartIndex}, the most the importer reads");
        }
        if (token is JsonTokenType.EndObject or JsonTokenType.EndArray)
        {
            _depth--;
        }
        if (_skipDepth > 0)
        {
            _skipDepth += token is JsonTokenType.StartObject or JsonTokenType.StartArray ? 1 : token is JsonTokenType.EndObject or JsonTokenType.EndArray ? -1 : 0;
            return;
        }
        switch (token)
        {
            case JsonTokenType.PropertyName:
                Name(ref reader);
                break;
            case JsonTokenType.EndObject or JsonTokenType.EndArray:
                End();
                break;
            default:
                Value(ref reader, token);
                break;
        }
    }

    /// <summary>Whether the token the reader has not yet read would be kept, and where it stands.</summary>
    public bool NextIsKept(out string path)
    {
        path = "";
        if (_skipDepth > 0 || _frames.Count == 0)
        {
            return false;
        }
        var frame = _frames.Peek();
        switch (frame.Shape.Kind)
        {
            case ShapeKind.Array:
                path = $"{frame.Path}[{frame.Items}]";
                return frame.Shape.Each!.Kind == ShapeKind.Value;
            case ShapeKind.Object or ShapeKind.Map when frame.AwaitingValue:
                path = Join(frame.Path, frame.PendingName);
                return frame.Pending?.Kind == ShapeKind.Value;
            case ShapeKind.Map:
                path = $"a member name in {frame.Path}";
                return true;
            default:
                return false;
        }
    }

    private void Name(ref Utf8JsonReader reader)
    {
        var frame = _frames.Peek();
        frame.AwaitingValue = true;
        frame.Pending = null;
        frame.PendingName = null;
        switch (frame.Shape.Kind)
        {
            case ShapeKind.Count:
                frame.Items++;
                break;
            case ShapeKind.Object:
                // Matched without decoding: a name that is not asked for costs nothing, whatever it holds.
                foreach (var (name, shape) in frame.Shape.Members)
                {
                    if (reader.ValueTextEquals(name))
                    {
                        frame.PendingName = name;
                        frame.Pending = shape;
                        break;
                    }
                }
                break;
            case ShapeKind.Map:
                Budget(ref reader, $"a member name in {frame.Path}");
                frame.PendingName = Text(ref reader, $"a member name in {frame.Path}");
                frame.Pending = frame.Shape.Each;
                break;
        }
    }

    private void Value(ref Utf8JsonReader reader, JsonTokenType token)
    {
        var parent = _frames.Count > 0 ? _frames.Peek() : null;
        JsonShape? shape;
        string path;
        if (parent is null)
        {
            _started = true;
            shape = root;
            path = "";
        }
        else if (parent.Shape.Kind == ShapeKind.Count)
        {
            if (!parent.IsObject)
            {
                parent.Items++;
            }
            shape = null;
            path = parent.Path;
        }
        else if (parent.Shape.Kind == ShapeKind.Array)
        {
            shape = parent.Shape.Each;
            path = $"{parent.Path}[{parent.Items++}]";
        }
        else
        {
            shape = parent.Pending;
            path = Join(parent.Path, parent.PendingName);
            parent.AwaitingValue = false;
        }

        var container = token is JsonTokenType.StartObject or JsonTokenType.StartArray;
        var fits = shape?.Kind switch
        {
            ShapeKind.Value => !container,
            ShapeKind.Count => container,
            ShapeKind.Object or ShapeKind.Map => token == JsonTokenType.StartObject,
            ShapeKind.Array => token == JsonTokenType.StartArray,
            _ => false,
        };
        if (!fits)
        {
            // Not asked for, or not of the kind asked for (a string where an object was expected): passed over.
            _skipDepth = container ? 1 : 0;
            return;
        }
        switch (shape!.Kind)
        {
            case ShapeKind.Value:
                Budget(ref reader, path);
                Place(parent, Scalar(ref reader, token, path));
                break;
            case ShapeKind.Count:
                _frames.Push(new Frame(shape, null, path, token == JsonTokenType.StartObject));
                break;
            default:
                Count(path, 0);
                JsonNode node = token == JsonTokenType.StartObject ? new JsonObject() : new JsonArray();
                Place(parent, node);
                _frames.Push(new Frame(shape, node, path, token == JsonTokenType.StartObject));
                break;
        }
    }

    private void End()
    {
        var frame = _frames.Pop();
        if (frame.Shape.Kind == ShapeKind.Count)
        {
            Count(frame.Path, 0);
            Place(_frames.Count > 0 ? _frames.Peek() : null, JsonValue.Create((long)frame.Items));
        }
    }

    private void Place(Frame? parent, JsonNode? node)
    {
        switch (parent?.Node)
        {
            case null:
                Root = node;
                break;
            case JsonObject obj:
                obj[parent.PendingName!] = node;
                break;
            case JsonArray array:
                array.Add(node);
                break;
        }
    }

    private JsonNode? Scalar(ref Utf8JsonReader reader, JsonTokenType token, string path) => token switch
    {
        JsonTokenType.String => JsonValue.Create(Text(ref reader, path)),
        JsonTokenType.Number => reader.TryGetInt64(out var whole) ? JsonValue.Create(whole)
            : reader.TryGetDouble(out var number) ? JsonValue.Create(number) : null,
        JsonTokenType.True or JsonTokenType.False => JsonValue.Create(reader.GetBoolean()),
        _ => null,
    };

    // The strict decoder refuses text that is not valid Unicode; the lenient one keeps it, repaired and reported.
    private string Text(ref Utf8JsonReader reader, string path)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            var raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray();
            var text = JsonStringText.Decode(raw, out var replaced);
            _repairs.Add(new TextRepair(path, replaced));
            return text;
        }
    }

    private void Budget(ref Utf8JsonReader reader, string path)
    {
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        if (length > limits.MaxValueBytes)
        {
            throw new InspectFormatException($"{path} is {Sizes.Describe(length)} long; the importer reads at most {Sizes.Describe(limits.MaxValueBytes)} of one value");
        }
        Count(path, length);
    }

    private void Count(string path, long bytes)
    {
        _keptBytes += bytes;
        if (++_keptValues > limits.MaxKeptValues)
        {
            throw new InspectFormatException($"the log holds more than {limits.MaxKeptValues:N0} values where the importer reads (at {path}), the most it reads");
        }
        if (_keptBytes > limits.MaxKeptBytes)
        {
            throw new InspectFormatException($"the values the importer reads come to more than {Sizes.Describe(limits.MaxKeptBytes)} (at {path}), the most it reads");
        }
    }

    private static string Join(string path, string? name) => path.Length == 0 ? name ?? "" : $"{path}.{name}";

    private sealed class Frame(JsonShape shape, JsonNode? node, string path, bool isObject)
    {
        public JsonShape Shape { get; } = shape;
        public JsonNode? Node { get; } = node;
        public string Path { get; } = path;
        public bool IsObject { get; } = isObject;
        /// <summary>Items counted or placed so far.</summary>
        public int Items { get; set; }
        public bool AwaitingValue { get; set; }
        public string? PendingName { get; set; }
        public JsonShape? Pending { get; set; }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Exchange.Inspect;

/// <summary>
/// Reads the top-level object of a JSON document from a stream, keeping the properties asked for
/// and skipping the others (an Inspect log's samples) token by token, so a log of hundreds of MB is
/// read with a buffer of kilobytes.
/// </summary>
internal static class TopLevelJson
{
    public static Dictionary<string, JsonNode?> Read(Stream stream, IReadOnlySet<string> keep, Action<long>? progress = null)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        var buffer = new byte[64 * 1024];
        var length = 0;
        var final = false;
        long consumedTotal = 0;
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 256 });
        var builder = new NodeBuilder();
        var depth = 0;
        string? property = null;
        var capturing = false;
        var started = false;
        var finished = false;

        while (!finished)
        {
            if (!final)
            {
                if (length == buffer.Length)
                {
                    // One token larger than the buffer (a long string): make room for it.
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
                var read = stream.Read(buffer, length, buffer.Length - length);
                final = read == 0;
                length += read;
            }
            var reader = new Utf8JsonReader(buffer.AsSpan(0, length), final, state);
            try
            {
                while (!finished && reader.Read())
                {
                    var token = reader.TokenType;
                    if (!started)
                    {
                        if (token != JsonTokenType.StartObject)
                        {
                            throw new InspectFormatException("the file is JSON but not an object: not an Inspect log");
                        }
                        started = true;
                        depth = 1;
                        continue;
                    }
                    if (depth == 1 && !capturing && property is null)
                    {
                        if (token == JsonTokenType.EndObject)
                        {
                            finished = true;
                            break;
                        }
                        property = reader.GetString()!;
                        continue;
                    }
                    if (property is not null && !capturing && depth == 1)
                    {
                        capturing = keep.Contains(property);
                        if (capturing)
                        {
                            builder.Start();
                        }
                    }
                    if (capturing)
                    {
                        builder.Add(ref reader);
                    }
                    depth += token is JsonTokenType.StartObject or JsonTokenType.StartArray ? 1
                        : token is JsonTokenType.EndObject or JsonTokenType.EndArray ? -1 : 0;
                    if (depth == 1)
                    {
                        if (capturing)
                        {
                            result[property!] = builder.Result;
                        }
                        capturing = false;
                        property = null;
                    }
                }
            }
            catch (JsonException e) when (final && e.Message.Contains("end of", StringComparison.OrdinalIgnoreCase) || final && e.Message.Contains("depth to be zero", StringComparison.Ordinal))
            {
                throw new InspectFormatException($"the log ends early at byte {consumedTotal + reader.BytesConsumed}: the file is truncated", e);
            }
            catch (JsonException e)
            {
                throw new InspectFormatException($"not valid JSON at byte {consumedTotal + reader.BytesConsumed}: {FirstSentence(e.Message)}", e);
            }
            // A string that is not UTF-8 fails only when it is read (found by fuzzing).
            catch (InvalidOperationException e) when (e.InnerException is System.Text.DecoderFallbackException)
            {
                throw new InspectFormatException($"not valid UTF-8 text at byte {consumedTotal + reader.BytesConsumed}", e);
            }
            var consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
            consumedTotal += consumed;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, length - consumed);
            length -= consumed;
            progress?.Invoke(consumedTotal);
            if (final && !finished)
            {
                throw new InspectFormatException(started
                    ? $"the log ends early at byte {consumedTotal}: the file is truncated"
                    : "the file is empty");
            }
        }
        return result;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    // Builds a JsonNode from reader tokens; the value can arrive across several buffers.
    private sealed class NodeBuilder
    {
        private readonly Stack<(JsonNode Container, string? Pending)> _stack = new();
        private string? _name;

        public JsonNode? Result { get; private set; }

        public void Start()
        {
            _stack.Clear();
            _name = null;
            Result = null;
        }

        public void Add(ref Utf8JsonReader reader)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    Push(new JsonObject());
                    break;
                case JsonTokenType.StartArray:
                    Push(new JsonArray());
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    var (done, _) = _stack.Pop();
                    if (_stack.Count == 0)
                    {
                        Result = done;
                    }
                    break;
                case JsonTokenType.PropertyName:
                    _name = reader.GetString();
                    break;
                case JsonTokenType.String:
                    Value(JsonValue.Create(reader.GetString()));
                    break;
                case JsonTokenType.Number:
                    Value(reader.TryGetInt64(out var whole) ? JsonValue.Create(whole) : JsonValue.Create(reader.GetDouble()));
                    break;
                case JsonTokenType.True:
                case JsonTokenType.False:
                    Value(JsonValue.Create(reader.GetBoolean()));
                    break;
                case JsonTokenType.Null:
                    Value(null);
                    break;
            }
        }

        private void Push(JsonNode container)
        {
            Value(container);
            _stack.Push((container, null));
        }

        private void Value(JsonNode? value)
        {
            if (_stack.Count == 0)
            {
                Result = value;
                return;
            }
            switch (_stack.Peek().Container)
            {
                case JsonObject obj:
                    obj[_name!] = value;
                    _name = null;
                    break;
                case JsonArray array:
                    array.Add(value);
                    break;
            }
        }
    }
}

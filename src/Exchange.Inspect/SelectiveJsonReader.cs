using System.Text.Json;
using System.Text.Json.Nodes;

namespace Exchange.Inspect;

/// <summary>What was kept of a document, and the text that had to be repaired to keep it.</summary>
internal sealed record SelectedJson(JsonNode? Root, IReadOnlyList<TextRepair> Repairs);

/// <summary>
/// Streams a JSON document (RFC 8259, plus comments and trailing commas) and keeps only what a
/// <see cref="JsonShape"/> asks for. Memory is bounded by <see cref="InspectLimits"/> whatever the file
/// holds: the read buffer never grows past one kept value (plus 64 KiB), a longer string or number
/// where nothing is kept streams past without being held, and nesting, kept values and kept bytes
/// are capped. A log of hundreds of MB is read in about a megabyte.
/// </summary>
internal sealed partial class SelectiveJsonReader
{
    private const int Slack = 64 * 1024;
    private readonly Stream _stream;
    private readonly InspectLimits _limits;
    private readonly KeptTree _tree;
    private readonly Action<long>? _progress;
    private readonly CancellationToken _cancellationToken;
    private byte[] _buffer = new byte[Slack];
    private int _length;
    private bool _final;
    // Bytes of the file before _buffer[0].
    private long _offset;

    private SelectiveJsonReader(Stream stream, JsonShape shape, InspectLimits limits, Action<long>? progress, CancellationToken cancellationToken)
    {
        _stream = stream;
        _limits = limits;
        _tree = new KeptTree(shape, limits);
        _progress = progress;
        _cancellationToken = cancellationToken;
    }

    private int MaxBuffer => _limits.MaxValueBytes + Slack;

    /// <summary>Reads one document from <paramref name="stream"/>; bytes after it are not read.</summary>
    /// <exception cref="InspectFormatException">Not JSON, truncated, or beyond a limit; the message says which and where.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static SelectedJson Read(Stream stream, JsonShape shape, InspectLimits limits, Action<long>? progress = null, CancellationToken cancellationToken = default) =>
        new SelectiveJsonReader(stream, shape, limits, progress, cancellationToken).Run();

    private SelectedJson Run()
    {
        // One deeper than the limit, so that KeptTree, which names the limit, is the one to refuse.
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = _limits.MaxDepth + 1 });
        while (!_tree.Finished)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (!_final)
            {
                if (_length == _buffer.Length)
                {
                    MakeRoom();
                }
                if (!_final)
                {
                    var read = _stream.Read(_buffer, _length, _buffer.Length - _length);
                    _final = read == 0;
                    _length += read;
                }
            }
            var reader = new Utf8JsonReader(_buffer.AsSpan(0, _length), _final, state);
            try
            {
                while (!_tree.Finished && reader.Read())
                {
                    _tree.Take(ref reader, _offset);
                }
            }
            catch (JsonException e) when (_final && (e.Message.Contains("end of", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("depth to be zero", StringComparison.Ordinal)))
            {
                throw new InspectFormatException($"the log ends early at byte {_offset + reader.BytesConsumed}: the file is truncated", e);
            }
            catch (JsonException e)
            {
                throw new InspectFormatException($"not valid JSON at byte {_offset + reader.BytesConsumed}: {FirstSentence(e.Message)}", e);
            }
            var consumed = (int)reader.BytesConsumed;
            state = reader.CurrentState;
            Buffer.BlockCopy(_buffer, consumed, _buffer, 0, _length - consumed);
            _length -= consumed;
            _offset += consumed;
            _progress?.Invoke(_offset);
            if (_final && !_tree.Finished)
            {
                throw new InspectFormatException(_offset > 0 || _length > 0
                    ? $"the log ends early at byte {_offset + _length}: the file is truncated"
                    : "the file is empty");
            }
        }
        return new SelectedJson(_tree.Root, _tree.Repairs);
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }
}

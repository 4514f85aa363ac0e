using System.Text;
using Exchange.Domain.Findings;
using Google.Protobuf;

namespace Exchange.Cli.Output;

/// <summary>Protobuf's JSON mapping, the same form `findings submit --file` reads.</summary>
internal static class ProtoJson
{
    /// <summary>
    /// The largest file read as one message: 64 MiB, far above any the node accepts (4 MiB as protobuf,
    /// about 5.4 MiB as JSON with its bytes in base64), so the node's own limit is what users meet.
    /// </summary>
    public const int MaxFileBytes = 64 * 1024 * 1024;

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());

    // Unknown fields are refused so that a misspelt field is an error, not silently dropped.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly JsonFormatter LineFormatter = new(JsonFormatter.Settings.Default);

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>On one line: JSON Lines, for streams.</summary>
    public static string FormatLine(IMessage message) => LineFormatter.Format(message);

    public static void WriteArray(TextWriter writer, IEnumerable<IMessage> messages)
    {
        writer.WriteLine("[" + string.Join(",", messages.Select(m => Environment.NewLine + Format(m))) + Environment.NewLine + "]");
    }

    /// <summary>
    /// Reads a message in protobuf JSON from <paramref name="path"/>, at most <see cref="MaxFileBytes"/>
    /// (a device or pipe that never ends included).
    /// </summary>
    /// <exception cref="CliException">Unreadable, too large, not JSON, or not the message (exit 4), naming <paramref name="option"/>.</exception>
    public static T ReadFile<T>(string path, string option) where T : IMessage<T>, new()
    {
        string text;
        try
        {
            text = ReadBounded(path, option);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{option}: cannot read '{path}': {e.Message}", ExitCodes.InvalidInput);
        }
        try
        {
            return Parser.Parse<T>(text);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CliException($"{option}: '{path}' is not a valid {typeof(T).Name} in protobuf JSON: {e.Message}", ExitCodes.InvalidInput);
        }
        catch (InvalidJsonException e)
        {
            throw new CliException($"{option}: '{path}' is not valid JSON: {e.Message}", ExitCodes.InvalidInput);
        }
    }

    private static string ReadBounded(string path, string option)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var bytes = new MemoryStream();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = file.Read(buffer)) > 0)
        {
            if (bytes.Length + read > MaxFileBytes)
            {
                throw new CliException($"{option}: '{path}' is larger than {Sizes.Describe(MaxFileBytes)}, far more than any finding the node accepts", ExitCodes.InvalidInput);
            }
            bytes.Write(buffer, 0, read);
        }
        try
        {
            bytes.Position = 0;
            // A byte order mark may say UTF-16 or UTF-32; without one the file must be UTF-8, every byte of it.
            using var text = new StreamReader(bytes, StrictUtf8, detectEncodingFromByteOrderMarks: true);
            return text.ReadToEnd();
        }
        catch (DecoderFallbackException e)
        {
            throw new CliException($"{option}: '{path}' is not UTF-8 text (bytes that are not UTF-8 near offset {e.Index})", ExitCodes.InvalidInput);
        }
    }
}

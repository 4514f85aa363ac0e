using Google.Protobuf;

namespace Exchange.Cli.Output;

/// <summary>Protobuf's JSON mapping, the same form `findings submit --file` reads.</summary>
internal static class ProtoJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithIndentation());

    // Unknown fields are refused so that a misspelt field is an error, not silently dropped.
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    private static readonly JsonFormatter LineFormatter = new(JsonFormatter.Settings.Default);

    public static string Format(IMessage message) => Formatter.Format(message);

    /// <summary>On one line: JSON Lines, for streams.</summary>
    public static string FormatLine(IMessage message) => LineFormatter.Format(message);

    public static void WriteArray(TextWriter writer, IEnumerable<IMessage> messages)
    {
        writer.WriteLine("[" + string.Join(",", messages.Select(m => Environment.NewLine + Format(m))) + Environment.NewLine + "]");
    }

    public static T ReadFile<T>(string path, string option) where T : IMessage<T>, new()
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
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
}

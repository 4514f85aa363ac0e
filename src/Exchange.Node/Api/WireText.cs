using System.Text.Unicode;
using Google.Protobuf.Reflection;

namespace Exchange.Node.Api;

/// <summary>
/// Finds a string field that is not valid UTF-8 in a serialized protobuf message, walking the wire
/// format with the message's descriptor (protobuf encoding: https://protobuf.dev/programming-guides/encoding/).
/// Protobuf requires string fields to be UTF-8; the C# parser refuses one that is not with an
/// exception that gRPC reports as UNKNOWN, naming nothing. This names the field first.
/// </summary>
internal static class WireText
{
    private const int MaxDepth = 64;

    /// <summary>
    /// The path of the first string field of <paramref name="message"/> that is not valid UTF-8
    /// (e.g. <c>content.metrics[2].name</c>), or null when there is none or the bytes are not a
    /// well-formed message (the parser will say so).
    /// </summary>
    public static string? FirstInvalid(MessageDescriptor descriptor, ReadOnlySpan<byte> message) => FirstInvalid(descriptor, message, 0);

    private static string? FirstInvalid(MessageDescriptor descriptor, ReadOnlySpan<byte> message, int depth)
    {
        Dictionary<int, int>? seen = null;
        var at = 0;
        while (at < message.Length)
        {
            if (!Varint(message, ref at, out var tag))
            {
                return null;
            }
            switch (tag & 7)
            {
                case 0:
                    if (!Varint(message, ref at, out _))
                    {
                        return null;
                    }
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    if (!Varint(message, ref at, out var length) || length > (ulong)(message.Length - at))
                    {
                        return null;
                    }
                    var payload = message.Slice(at, (int)length);
                    at += (int)length;
                    var field = descriptor.FindFieldByNumber((int)(tag >> 3));
                    if (field is null || field.FieldType is not (FieldType.String or FieldType.Message))
                    {
                        break;
                    }
                    var name = field.Name;
                    if (field.IsRepeated)
                    {
                        seen ??= [];
                        var index = seen.GetValueOrDefault(field.FieldNumber);
                        seen[field.FieldNumber] = index + 1;
                        name = $"{name}[{index}]";
                    }
                    if (field.FieldType == FieldType.String && !Utf8.IsValid(payload))
                    {
                        return name;
                    }
                    if (field.FieldType == FieldType.Message && depth < MaxDepth && FirstInvalid(field.MessageType, payload, depth + 1) is { } inner)
                    {
                        return $"{name}.{inner}";
                    }
                    break;
                default:
                    // Groups (wire types 3 and 4) are not in our protos; anything else is not protobuf.
                    return null;
            }
        }
        return null;
    }

    private static bool Varint(ReadOnlySpan<byte> bytes, ref int at, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && at < bytes.Length; shift += 7)
        {
            var b = bytes[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}

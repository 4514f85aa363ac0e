using System.Buffers;
using System.Globalization;
using System.Text;

namespace Exchange.Inspect;

/// <summary>
/// Decodes the raw bytes of a JSON string (between its quotes, escapes as written) when the strict
/// reader refuses them: invalid UTF-8 (RFC 3629) and \u escapes that leave a UTF-16 surrogate
/// unpaired (RFC 8259 section 8.2 allows them to be written; no Unicode string can hold them)
/// become U+FFFD, and the caller learns how many were replaced.
/// </summary>
internal static class JsonStringText
{
    public static string Decode(ReadOnlySpan<byte> raw, out int replaced)
    {
        var text = new StringBuilder(raw.Length);
        replaced = 0;
        var at = 0;
        while (at < raw.Length)
        {
            if (raw[at] != (byte)'\\')
            {
                var status = Rune.DecodeFromUtf8(raw[at..], out var rune, out var consumed);
                if (status != OperationStatus.Done)
                {
                    rune = Rune.ReplacementChar;
                    replaced++;
                }
                text.Append(rune.ToString());
                at += consumed;
                continue;
            }
            // The strict reader has checked the escape's syntax; only its meaning is left.
            var escape = raw[at + 1];
            at += 2;
            if (escape != (byte)'u')
            {
                text.Append(escape switch
                {
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => (char)escape,
                });
                continue;
            }
            var unit = Hex(raw.Slice(at, 4));
            at += 4;
            if (char.IsHighSurrogate(unit) && at + 6 <= raw.Length && raw[at] == (byte)'\\' && raw[at + 1] == (byte)'u'
                && Hex(raw.Slice(at + 2, 4)) is var low && char.IsLowSurrogate(low))
            {
                text.Append(unit).Append(low);
                at += 6;
            }
            else if (char.IsSurrogate(unit))
            {
                text.Append('\uFFFD');
                replaced++;
            }
            else
            {
                text.Append(unit);
            }
        }
        return text.ToString();
    }

    private static char Hex(ReadOnlySpan<byte> digits) =>
        (char)int.Parse(Encoding.ASCII.GetString(digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}

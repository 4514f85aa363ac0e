using System.Globalization;
using System.Text;

namespace Exchange.Domain.Text;

/// <summary>
/// Shortens text without breaking a character: cuts fall between grapheme clusters (Unicode UAX #29
/// extended grapheme clusters, as <see cref="StringInfo"/> finds them), so an emoji, a flag or a
/// letter with its accents is kept whole or left out whole, never split into a lone UTF-16 surrogate
/// that protobuf and PostgreSQL would turn into U+FFFD or refuse.
/// </summary>
public static class TextCut
{
    /// <summary>The ellipsis <see cref="Clip"/> ends a shortened text with (one UTF-16 unit).</summary>
    public const string Ellipsis = "…";

    /// <summary>
    /// <paramref name="text"/> if it has at most <paramref name="maxChars"/> UTF-16 units; otherwise its
    /// longest prefix of whole grapheme clusters that leaves room for <see cref="Ellipsis"/>, then the
    /// ellipsis. The result never exceeds <paramref name="maxChars"/> units.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxChars"/> is less than 1.</exception>
    public static string Clip(string text, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxChars, 1);
        return text.Length <= maxChars ? text : string.Concat(text.AsSpan(0, PrefixLength(text, maxChars - Ellipsis.Length)), Ellipsis);
    }

    /// <summary>
    /// <paramref name="text"/> cut to at most <paramref name="maxChars"/> UTF-16 units, at the last grapheme
    /// cluster boundary that fits, with no marker (for columns that hold a copy of sealed text).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxChars"/> is negative.</exception>
    public static string Cut(string text, int maxChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxChars);
        return text.Length <= maxChars ? text : text[..PrefixLength(text, maxChars)];
    }

    /// <summary>
    /// The length of the longest prefix of whole grapheme clusters within <paramref name="room"/> units.
    /// A cluster that alone is longer than the room (a letter under thousands of combining marks) is
    /// cut between code points instead, so the prefix is not empty for want of a boundary.
    /// </summary>
    private static int PrefixLength(string text, int room)
    {
        var end = 0;
        while (end < text.Length)
        {
            var next = end + StringInfo.GetNextTextElementLength(text, end);
            if (next > room)
            {
                break;
            }
            end = next;
        }
        if (end > 0 || room == 0)
        {
            return end;
        }
        while (end < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(end), out _, out var units);
            if (end + units > room)
            {
                break;
            }
            end += units;
        }
        return end;
    }
}

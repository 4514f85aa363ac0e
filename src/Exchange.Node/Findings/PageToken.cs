using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Exchange.Node.Findings;

/// <summary>An opaque position in a listing: the sequence number of the last row returned.</summary>
internal static class PageToken
{
    private const string Prefix = "f1:";

    public static string Encode(long lastSeq) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Prefix + lastSeq.ToString(CultureInfo.InvariantCulture)));

    public static bool TryDecode(string token, out long lastSeq)
    {
        lastSeq = 0;
        try
        {
            var text = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(token));
            return text.StartsWith(Prefix, StringComparison.Ordinal)
                   && long.TryParse(text.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out lastSeq);
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

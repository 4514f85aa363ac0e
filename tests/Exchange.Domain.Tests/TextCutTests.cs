using System.Globalization;
using System.Text;
using CsCheck;
using Exchange.Domain.Text;

namespace Exchange.Domain.Tests;

/// <summary>Cuts on grapheme boundaries, as properties over text made of the clusters that break naive cuts.</summary>
public sealed class TextCutTests
{
    private static readonly string[] Pieces =
    [
        "a", "t", " ", "é", "e\u0301", "\U0001F600", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\U0001F1EF\U0001F1F5", "\u1112\u1161\u11AB",
        "\U0001F44D\U0001F3FD", "\r\n", "\u0915\u094D\u0937", "漢", "\uD83D", "\uDE00", "a" + new string('\u0301', 40),
    ];

    private static readonly Gen<(string Text, int Max)> Cases =
        Gen.OneOf(Pieces).Array[0, 40].Select(p => string.Concat(p)).SelectMany(text => Gen.Int[1, Math.Max(1, text.Length + 2)].Select(max => (text, max)));

    private static readonly UTF8Encoding Strict = new(false, throwOnInvalidBytes: true);

    [Fact]
    public void Clip_keeps_whole_graphemes_within_the_limit_and_marks_the_cut()
    {
        Cases.Sample(c =>
        {
            var clipped = TextCut.Clip(c.Text, c.Max);
            Assert.True(clipped.Length <= c.Max);
            if (c.Text.Length <= c.Max)
            {
                Assert.Equal(c.Text, clipped);
                return;
            }
            Assert.EndsWith(TextCut.Ellipsis, clipped);
            AssertCleanPrefix(c.Text, clipped[..^1], c.Max - 1);
        }, iter: 5000);
    }

    [Fact]
    public void Cut_keeps_whole_graphemes_within_the_limit()
    {
        Cases.Sample(c =>
        {
            var cut = TextCut.Cut(c.Text, c.Max);
            Assert.True(cut.Length <= c.Max);
            AssertCleanPrefix(c.Text, cut, c.Max);
        }, iter: 5000);
    }

    // A prefix of the text that ends between grapheme clusters and is the longest such within the
    // room; only when one cluster alone is larger than the room does it end between code points.
    private static void AssertCleanPrefix(string text, string prefix, int room)
    {
        Assert.StartsWith(prefix, text, StringComparison.Ordinal);
        var boundaries = Boundaries(text);
        var longest = boundaries.Where(b => b <= room).Max();
        if (longest > 0)
        {
            Assert.Equal(longest, prefix.Length);
        }
        else
        {
            Assert.False(prefix.Length > 0 && char.IsHighSurrogate(prefix[^1]) && char.IsLowSurrogate(text[prefix.Length]), "a surrogate pair was split");
        }
        if (WellFormed(text))
        {
            Assert.True(WellFormed(prefix), "the cut left a lone surrogate");
        }
    }

    private static bool WellFormed(string text)
    {
        try
        {
            Strict.GetByteCount(text);
            return true;
        }
        catch (EncoderFallbackException)
        {
            return false;
        }
    }

    private static List<int> Boundaries(string text)
    {
        var boundaries = new List<int> { 0 };
        for (var at = 0; at < text.Length;)
        {
            at += StringInfo.GetNextTextElementLength(text, at);
            boundaries.Add(at);
        }
        return boundaries;
    }
}

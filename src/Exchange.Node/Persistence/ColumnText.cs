using Exchange.Domain.Text;

namespace Exchange.Node.Persistence;

/// <summary>
/// Text for the clear columns kept beside sealed content (filters, peers' reasons). PostgreSQL text
/// cannot hold NUL, and a peer's text has no length we chose: without this, one odd character or
/// a long reason from a peer would fail the whole transaction (found by fuzzing). The exact text,
/// where there is one, stays in the sealed content. Cuts fall between grapheme clusters: a cut
/// through a surrogate pair would leave text that PostgreSQL's UTF-8 encoding refuses.
/// </summary>
public static class ColumnText
{
    public static string Fit(string text, int maxLength = int.MaxValue)
    {
        var clean = text.Contains('\0') ? text.Replace('\0', '\uFFFD') : text;
        return TextCut.Cut(clean, maxLength);
    }
}

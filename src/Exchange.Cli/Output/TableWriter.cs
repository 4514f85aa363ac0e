namespace Exchange.Cli.Output;

/// <summary>Plain column-aligned tables: readable in a terminal, and greppable.</summary>
internal static class TableWriter
{
    public static void Write(TextWriter writer, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = rows.ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => Cell(r, i).Length))).ToArray();
        writer.WriteLine(Line(headers, widths));
        writer.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in all)
        {
            writer.WriteLine(Line(row, widths));
        }
    }

    public static void WriteFields(TextWriter writer, IEnumerable<(string Name, string Value)> fields)
    {
        var list = fields.ToList();
        var width = list.Count == 0 ? 0 : list.Max(f => f.Name.Length);
        foreach (var (name, value) in list)
        {
            writer.WriteLine($"{(name + ":").PadRight(width + 1)} {value}");
        }
    }

    private static string Cell(IReadOnlyList<string> row, int i) => i < row.Count ? row[i] : "";

    private static string Line(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", widths.Select((w, i) => i == widths.Length - 1 ? Cell(cells, i) : Cell(cells, i).PadRight(w))).TrimEnd();
}

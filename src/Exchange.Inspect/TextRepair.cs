namespace Exchange.Inspect;

/// <summary>
/// Text in the log that was not valid Unicode (invalid UTF-8, or a \u escape leaving a UTF-16
/// surrogate unpaired) at <paramref name="Path"/> (e.g. <c>eval.task</c>), kept with
/// <paramref name="Replaced"/> characters replaced by U+FFFD.
/// </summary>
public sealed record TextRepair(string Path, int Replaced);

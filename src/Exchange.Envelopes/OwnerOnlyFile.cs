namespace Exchange.Envelopes;

/// <summary>Writes secrets (private keys, passwords) to files only their owner can read, at no moment readable by others.</summary>
public static class OwnerOnlyFile
{
    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/> with mode 0600 from the moment
    /// the file exists. An existing file is an error unless <paramref name="overwrite"/>; then it is
    /// replaced by a rename, never rewritten under its old mode.
    /// </summary>
    public static void WriteAllText(string path, string contents, bool overwrite = false)
    {
        if (!overwrite && File.Exists(path))
        {
            throw new IOException($"'{path}' exists");
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        try
        {
            using (var writer = new StreamWriter(temporary, System.Text.Encoding.UTF8, options))
            {
                writer.Write(contents);
            }
            File.Move(temporary, path, overwrite);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}

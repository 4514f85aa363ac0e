namespace Exchange.Envelopes;

/// <summary>
/// Files and folders only their owner can read (0600 and 0700), created with that mode by the
/// system call that creates them: there is no moment, and no umask, under which another user could
/// open them. On Windows the modes do not apply and the calls create ordinary files and folders.
/// </summary>
public static class OwnerOnlyFile
{
    /// <summary>rw------- : what every file holding a secret, key or finding is created with.</summary>
    public const UnixFileMode FilePermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>rwx------ : what every folder the project creates for such files is created with.</summary>
    public const UnixFileMode DirectoryPermissions = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The permission bits that let anyone but the owner in (group and others).</summary>
    public const UnixFileMode OthersMask = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>
    /// Writes <paramref name="contents"/> to <paramref name="path"/> with mode 0600 from the moment
    /// the file exists. An existing file is an error unless <paramref name="overwrite"/>; then it is
    /// replaced by a rename, never rewritten under its old mode.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    public static void WriteAllText(string path, string contents, bool overwrite = false) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            writer.Write(contents);
        }, overwrite);

    /// <summary>
    /// As <see cref="WriteAllText"/>, with the content written to a stream by <paramref name="write"/>:
    /// into a 0600 file beside <paramref name="path"/>, moved into place once <paramref name="write"/>
    /// returns, so that a failed write leaves no partial file and an earlier one untouched.
    /// </summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    public static void Write(string path, Action<Stream> write, bool overwrite = false)
    {
        var temporary = TemporaryBeside(path, overwrite);
        try
        {
            using (var stream = new FileStream(temporary, Options(FileMode.CreateNew, FileAccess.Write)))
            {
                write(stream);
            }
            File.Move(temporary, path, overwrite);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>As <see cref="Write"/>, for content written asynchronously (a download streamed to the file).</summary>
    /// <exception cref="IOException">The file exists and <paramref name="overwrite"/> is false, or it cannot be written.</exception>
    public static async Task WriteAsync(string path, Func<Stream, CancellationToken, Task> write, bool overwrite, CancellationToken cancellationToken)
    {
        var temporary = TemporaryBeside(path, overwrite);
        try
        {
            await using (var stream = new FileStream(temporary, Options(FileMode.CreateNew, FileAccess.Write, FileOptions.Asynchronous)))
            {
                await write(stream, cancellationToken);
            }
            File.Move(temporary, path, overwrite);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    // A name for the file to write before it is moved to path, in the same folder so that the move is a rename.
    private static string TemporaryBeside(string path, bool overwrite)
    {
        if (!overwrite && File.Exists(path))
        {
            throw new IOException($"'{path}' exists");
        }
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>
    /// Options for a <see cref="FileStream"/> that, if it creates the file, creates it 0600.
    /// </summary>
    public static FileStreamOptions Options(FileMode mode, FileAccess access, FileOptions options = FileOptions.None, int bufferSize = 4096)
    {
        var result = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None, Options = options, BufferSize = bufferSize };
        if (!OperatingSystem.IsWindows())
        {
            result.UnixCreateMode = FilePermissions;
        }
        return result;
    }

    /// <summary>Creates an empty file 0600 unless one exists. Returns whether it created it.</summary>
    public static bool CreateEmpty(string path)
    {
        try
        {
            using var _ = new FileStream(path, Options(FileMode.CreateNew, FileAccess.Write));
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> and any missing parent folder with mode 0700. Folders that
    /// exist already keep their mode: they may be mounted volumes whose mode is the operator's.
    /// </summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        // Directory.CreateDirectory(path, mode) gives the mode to the last folder only; its parents
        // would be 0777 less the umask. So each missing folder is made on its own, outermost first.
        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(path); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Push(folder);
        }
        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, DirectoryPermissions);
        }
    }

    /// <summary>Whether a file or folder lets anyone but its owner in (always false on Windows).</summary>
    public static bool IsOpenToOthers(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & OthersMask) != 0;
}

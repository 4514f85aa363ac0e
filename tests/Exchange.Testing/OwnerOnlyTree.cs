using Exchange.Envelopes;
using Xunit;

namespace Exchange.Testing;

/// <summary>Checks that everything under a folder is its owner's alone: files 0600 at most, folders 0700.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public static class OwnerOnlyTree
{
    /// <summary>Every file and folder under <paramref name="root"/>, the root included, with its mode.</summary>
    public static IReadOnlyList<(string Path, bool IsDirectory, UnixFileMode Mode)> Walk(string root) =>
        [(root, true, File.GetUnixFileMode(root)),
         .. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
             .Select(path => (path, Directory.Exists(path), File.GetUnixFileMode(path)))];

    /// <summary>Fails naming every entry another user could read, write or enter.</summary>
    public static void AssertOwnerOnly(IEnumerable<(string Path, bool IsDirectory, UnixFileMode Mode)> entries)
    {
        var open = entries.Where(e => (e.Mode & OwnerOnlyFile.OthersMask) != 0 || (e.IsDirectory && e.Mode != OwnerOnlyFile.DirectoryPermissions))
            .Select(e => $"{e.Path} {Octal(e.Mode)}").ToList();
        Assert.True(open.Count == 0, $"open to others: {string.Join(", ", open)}");
    }

    /// <summary>
    /// The process's umask lets files be created group- or world-readable (022 usually), so that a
    /// file made without an explicit mode would show: under 077 an owner-only check proves nothing.
    /// </summary>
    public static void AssertUmaskWouldLetOthersRead()
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("Umask:", StringComparison.Ordinal));
        var umask = Convert.ToInt32(line["Umask:".Length..].Trim(), 8);
        Assert.True((umask & 0b000_100_100) != 0b000_100_100,
            $"the umask {Convert.ToString(umask, 8)} already hides every file from others, so this test could not see one made without an owner-only mode; run it under umask 022");
    }

    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}

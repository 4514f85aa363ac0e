using Exchange.Domain.IO;

namespace Exchange.Inspect;

/// <summary>
/// A zip entry's decompressed content that may not run past the size its directory entry declares:
/// the check is made as the bytes come, so an entry that claims a kilobyte and inflates to gigabytes
/// is stopped after one buffer, not after the gigabytes.
/// </summary>
/// <param name="nameOf">Gives the name of entry <paramref name="entry"/> for the message, read only if it is needed.</param>
internal sealed class DeclaredSizeStream(Stream inner, long declared, Func<int, string> nameOf, int entry) : ForwardReadStream(inner)
{
    private long _read;

    public override int Read(Span<byte> buffer)
    {
        // Ask for at most one byte past the declared size: enough to see the lie, no more.
        var room = (int)Math.Min(buffer.Length, declared - _read + 1);
        var read = Inner.Read(buffer[..room]);
        _read += read;
        if (_read > declared)
        {
            throw new InspectFormatException($"the .eval archive entry '{nameOf(entry)}' inflates past the {declared:N0} bytes its zip directory declares: a zip bomb, or a damaged archive");
        }
        return read;
    }

    public override long Length => declared;
    public override long Position { get => _read; set => throw new NotSupportedException(); }
}

using Exchange.Domain.Findings;

namespace Exchange.Inspect;

internal sealed partial class SelectiveJsonReader
{
    /// <summary>
    /// The buffer is full and holds no whole token: grow it up to the largest value kept, then make
    /// room without growing. Whitespace between tokens is dropped; a string or number that nothing
    /// keeps streams past and leaves <c>""</c> or <c>0</c> in its place, so the reader's state stays
    /// valid; one that would be kept is refused, naming where it is.
    /// </summary>
    private void MakeRoom()
    {
        if (_buffer.Length < MaxBuffer)
        {
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxBuffer));
            return;
        }
        var start = 0;
        while (start < _length && _buffer[start] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)',' or (byte)':')
        {
            start++;
        }
        if (start == _length)
        {
            DropWhitespace();
            return;
        }
        var first = _buffer[start];
        if (first is not ((byte)'"' or (byte)'-' or >= (byte)'0' and <= (byte)'9'))
        {
            throw new InspectFormatException($"not valid JSON at byte {_offset + start}: a token (a comment?) longer than {Sizes.Describe(MaxBuffer)}");
        }
        if (_tree.NextIsKept(out var path))
        {
            throw new InspectFormatException($"{path} at byte {_offset + start} is longer than {Sizes.Describe(_limits.MaxValueBytes)}, the most the importer reads of one value");
        }
        if (first == (byte)'"')
        {
            SkipLongString(start);
        }
        else
        {
            SkipLongNumber(start);
        }
    }

    private void DropWhitespace()
    {
        var kept = 0;
        for (var i = 0; i < _length; i++)
        {
            if (_buffer[i] is (byte)',' or (byte)':')
            {
                _buffer[kept++] = _buffer[i];
            }
        }
        _offset += _length - kept;
        _length = kept;
    }

    // Validates as RFC 8259 section 7 does (no raw control characters, known escapes, four hex digits
    // after \u) while streaming, so a skipped string is as well-formed as a read one.
    private void SkipLongString(int start)
    {
        var escaped = false;
        var hex = 0;
        var at = start + 1;
        while (true)
        {
            for (; at < _length; at++)
            {
                var b = _buffer[at];
                if (hex > 0)
                {
                    if (!char.IsAsciiHexDigit((char)b))
                    {
                        throw Invalid(at, "a \\u escape needs four hex digits");
                    }
                    hex--;
                }
                else if (escaped)
                {
                    escaped = false;
                    if (b == (byte)'u')
                    {
                        hex = 4;
                    }
                    else if (b is not ((byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t'))
                    {
                        throw Invalid(at, "an unknown escape in a string");
                    }
                }
                else if (b == (byte)'\\')
                {
                    escaped = true;
                }
                else if (b == (byte)'"')
                {
                    Replace(start, at + 1, "\"\""u8);
                    return;
                }
                else if (b < 0x20)
                {
                    throw Invalid(at, "a control character in a string");
                }
            }
            if (!ReadOnInto(start + 1))
            {
                throw new InspectFormatException($"the log ends early at byte {_offset + _length}, inside a string: the file is truncated");
            }
            at = start + 1;
        }
    }

    private void SkipLongNumber(int start)
    {
        var at = start;
        while (true)
        {
            for (; at < _length; at++)
            {
                if (_buffer[at] is not ((byte)'-' or (byte)'+' or (byte)'.' or (byte)'e' or (byte)'E' or >= (byte)'0' and <= (byte)'9'))
                {
                    Replace(start, at, "0"u8);
                    return;
                }
            }
            if (!ReadOnInto(start + 1))
            {
                _final = true;
                Replace(start, _length, "0"u8);
                return;
            }
            at = start + 1;
        }
    }

    // Drops the bytes from `keep` to the end of the buffer (all part of the long token) and reads on into their place.
    private bool ReadOnInto(int keep)
    {
        _cancellationToken.ThrowIfCancellationRequested();
        _offset += _length - keep;
        _length = keep;
        var read = _stream.Read(_buffer, _length, _buffer.Length - _length);
        _length += read;
        _progress?.Invoke(_offset);
        return read > 0;
    }

    // Puts `replacement` in place of the bytes from `start` to `end`.
    private void Replace(int start, int end, ReadOnlySpan<byte> replacement)
    {
        replacement.CopyTo(_buffer.AsSpan(start));
        Buffer.BlockCopy(_buffer, end, _buffer, start + replacement.Length, _length - end);
        var removed = end - start - replacement.Length;
        _length -= removed;
        _offset += removed;
    }

    private InspectFormatException Invalid(int at, string what) => new($"not valid JSON at byte {_offset + at}: {what}");
}

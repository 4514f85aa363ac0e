using Exchange.Domain.IO;

namespace Exchange.Inspect;

/// <summary>
/// Inspect writes non-finite floats as bare JSON words (NaN, Infinity, -Infinity), which JSON does
/// not allow. This read-only stream quotes them on the fly ("NaN") wherever they stand outside a
/// string, so a standard JSON reader can parse the log as it streams.
/// </summary>
internal sealed class NonFiniteLiteralStream(Stream inner) : ForwardReadStream(inner)
{
    private static readonly byte[] Infinity = "Infinity"u8.ToArray();
    private static readonly byte[] NaN = "NaN"u8.ToArray();

    private readonly byte[] _input = new byte[64 * 1024];
    private readonly Queue<byte> _output = new();
    private bool _inString;
    private bool _escaped;
    // A literal being matched outside a string: its text and how much of it has been seen.
    private byte[]? _literal;
    private bool _negative;
    private int _matched;
    private bool _innerDone;

    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        while (_output.Count < buffer.Length && !_innerDone)
        {
            var read = Inner.Read(_input);
            if (read == 0)
            {
                _innerDone = true;
                FlushPartialLiteral();
                break;
            }
            BytesRead += read;
            for (var i = 0; i < read; i++)
            {
                Consume(_input[i]);
            }
        }
        var count = Math.Min(buffer.Length, _output.Count);
        for (var i = 0; i < count; i++)
        {
            buffer[i] = _output.Dequeue();
        }
        return count;
    }

    private void Consume(byte b)
    {
        if (_inString)
        {
            _output.Enqueue(b);
            if (_escaped)
            {
                _escaped = false;
            }
            else if (b == (byte)'\\')
            {
                _escaped = true;
            }
            else if (b == (byte)'"')
            {
                _inString = false;
            }
            return;
        }
        if (_literal is not null)
        {
            if (_matched < _literal.Length && b == _literal[_matched])
            {
                _matched++;
                if (_matched == _literal.Length)
                {
                    _output.Enqueue((byte)'"');
                    if (_negative)
                    {
                        _output.Enqueue((byte)'-');
                    }
                    foreach (var c in _literal)
                    {
                        _output.Enqueue(c);
                    }
                    _output.Enqueue((byte)'"');
                    _literal = null;
                    _negative = false;
                    _matched = 0;
                }
                return;
            }
            // Not a literal after all ("-1.5", or garbage the JSON reader will report): pass it through.
            FlushPartialLiteral();
        }
        else if (_negative)
        {
            _negative = false;
            if (b == (byte)'I')
            {
                _negative = true;
                _literal = Infinity;
                _matched = 1;
                return;
            }
            _output.Enqueue((byte)'-');
        }
        switch (b)
        {
            case (byte)'"':
                _inString = true;
                _output.Enqueue(b);
                break;
            case (byte)'N':
                _literal = NaN;
                _matched = 1;
                break;
            case (byte)'I':
                _literal = Infinity;
                _matched = 1;
                break;
            case (byte)'-':
                _negative = true;
                break;
            default:
                _output.Enqueue(b);
                break;
        }
    }

    private void FlushPartialLiteral()
    {
        if (_negative)
        {
            _output.Enqueue((byte)'-');
        }
        if (_literal is not null)
        {
            for (var i = 0; i < _matched; i++)
            {
                _output.Enqueue(_literal[i]);
            }
        }
        _literal = null;
        _negative = false;
        _matched = 0;
    }

    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
}

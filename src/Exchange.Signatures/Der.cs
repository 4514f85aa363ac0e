namespace Exchange.Signatures;

/// <summary>
/// The DER of an ECDSA P-256 signature, SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 §2.2.3), read
/// strictly: short-form lengths (the whole is at most 72 bytes), minimal non-negative integers
/// (X.690 §8.3.2), nothing after the sequence. Anything that decodes must re-encode to itself.
/// </summary>
internal static class Der
{
    private const byte Sequence = 0x30;
    private const byte Integer = 0x02;
    private const int Field = CanonicalEcdsa.FieldSize;

    public static byte[] Encode(ReadOnlySpan<byte> r, ReadOnlySpan<byte> s)
    {
        var ri = Minimal(r);
        var si = Minimal(s);
        var body = 2 + ri.Length + 2 + si.Length;
        return [Sequence, (byte)body, Integer, (byte)ri.Length, .. ri, Integer, (byte)si.Length, .. si];
    }

    public static bool TryDecode(ReadOnlySpan<byte> der, out byte[] fixedField)
    {
        fixedField = [];
        if (der.Length < 8 || der[0] != Sequence || der[1] != der.Length - 2)
        {
            return false;
        }
        var rest = der[2..];
        var result = new byte[2 * Field];
        if (!TryReadInteger(ref rest, result.AsSpan(0, Field)) || !TryReadInteger(ref rest, result.AsSpan(Field)) || !rest.IsEmpty)
        {
            return false;
        }
        fixedField = result;
        return true;
    }

    // Writes the integer right-aligned into the 32-byte field; refuses non-minimal, negative,
    // zero-length or oversized encodings.
    private static bool TryReadInteger(ref ReadOnlySpan<byte> input, Span<byte> field)
    {
        if (input.Length < 3 || input[0] != Integer || input[1] == 0 || input[1] > Field + 1 || input[1] > input.Length - 2)
        {
            return false;
        }
        var value = input.Slice(2, input[1]);
        input = input[(2 + value.Length)..];
        if ((value[0] & 0x80) != 0 || (value.Length > 1 && value[0] == 0 && (value[1] & 0x80) == 0))
        {
            return false;
        }
        var magnitude = value[0] == 0 && value.Length > 1 ? value[1..] : value;
        if (magnitude.Length > Field)
        {
            return false;
        }
        magnitude.CopyTo(field[(Field - magnitude.Length)..]);
        return true;
    }

    // The shortest two's-complement big-endian form of an unsigned integer: leading zero bytes
    // dropped, one put back if the top bit is set.
    private static byte[] Minimal(ReadOnlySpan<byte> unsigned)
    {
        var start = 0;
        while (start < unsigned.Length - 1 && unsigned[start] == 0)
        {
            start++;
        }
        var digits = unsigned[start..];
        return (digits[0] & 0x80) != 0 ? [0, .. digits] : digits.ToArray();
    }
}

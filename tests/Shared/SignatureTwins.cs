using System.Numerics;

namespace Exchange.Fuzzing;

/// <summary>
/// Second encodings of a valid ECDSA P-256 signature, computed here independently of the code
/// under test: the twin (r, n − s), which verifies mathematically, and longer DER spellings of
/// the same integers.
/// </summary>
internal static class SignatureTwins
{
    private static readonly BigInteger N = BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber);

    public static bool IsLowS(byte[] fixedField) => Unsigned(fixedField.AsSpan(32)) <= N / 2;

    /// <summary>r ‖ (n − s), both 32 bytes.</summary>
    public static byte[] FixedFieldTwin(byte[] fixedField) => [.. fixedField.AsSpan(0, 32), .. Fixed(N - Unsigned(fixedField.AsSpan(32)))];

    public static byte[] DerTwin(byte[] der)
    {
        var (r, s) = ReadDer(der);
        return Der(Minimal(r), Minimal(N - s));
    }

    public static bool IsLowSDer(byte[] der) => ReadDer(der).S <= N / 2;

    /// <summary>The same (r, s) in DER that is not minimal: a padded integer, a long-form length, a trailing byte.</summary>
    public static IEnumerable<byte[]> LongerDer(byte[] der)
    {
        var (r, s) = ReadDer(der);
        yield return Der([0, .. Minimal(r)], Minimal(s));
        yield return Der(Minimal(r), [0, .. Minimal(s)]);
        var body = der[2..];
        yield return [0x30, 0x81, (byte)body.Length, .. body];
        yield return [.. der, 0];
    }

    private static (BigInteger R, BigInteger S) ReadDer(byte[] der)
    {
        var rLength = der[3];
        var r = der.AsSpan(4, rLength);
        var s = der.AsSpan(4 + rLength + 2, der[4 + rLength + 1]);
        return (Unsigned(r), Unsigned(s));
    }

    private static byte[] Der(byte[] r, byte[] s) => [0x30, (byte)(4 + r.Length + s.Length), 0x02, (byte)r.Length, .. r, 0x02, (byte)s.Length, .. s];

    private static byte[] Minimal(BigInteger value) => value.ToByteArray(isUnsigned: false, isBigEndian: true);

    private static BigInteger Unsigned(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);

    private static byte[] Fixed(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[32 - bytes.Length], .. bytes];
    }
}

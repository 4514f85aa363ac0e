using CsCheck;

namespace Exchange.Fuzzing;

/// <summary>
/// Mutation fuzzing on CsCheck: mutated copies of valid inputs (bits flipped, bytes set to values
/// parsers trip on, ranges deleted, inserted, duplicated, swapped, truncated). Bounded by the
/// number of iterations each test asks for, so that CI stays fast.
/// </summary>
internal static class ByteMutations
{
    private static readonly byte[] Interesting = [0x00, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)'\\', (byte)'0', (byte)'-', (byte)'e', (byte)'\n', 0xC0, 0xEF];

    /// <summary>Mutated copies of one of <paramref name="valid"/>: 1 to 6 mutations each.</summary>
    public static Gen<byte[]> Of(params byte[][] valid) =>
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Int[1, 6], Gen.Int, (which, count, seed) => Mutate(valid[which], count, new Random(seed)));

    public static byte[] Mutate(byte[] input, int count, Random random)
    {
        var bytes = new List<byte>(input);
        for (var m = 0; m < count; m++)
        {
            var at = bytes.Count == 0 ? 0 : random.Next(bytes.Count);
            var length = Math.Min(random.Next(1, 17), bytes.Count - at);
            switch (random.Next(7))
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2:
                    bytes.RemoveRange(at, length);
                    break;
                case 3:
                    var inserted = new byte[random.Next(1, 17)];
                    random.NextBytes(inserted);
                    bytes.InsertRange(at, inserted);
                    break;
                case 4:
                    bytes.InsertRange(at, bytes.GetRange(at, length));
                    break;
                case 5:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 6 when bytes.Count > 1:
                    var other = random.Next(bytes.Count);
                    (bytes[at], bytes[other]) = (bytes[other], bytes[at]);
                    break;
            }
        }
        return [.. bytes];
    }
}

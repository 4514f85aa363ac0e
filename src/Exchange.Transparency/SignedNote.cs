using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Exchange.Signatures;

namespace Exchange.Transparency;

/// <summary>One signature line of a note: key name, 4-byte key id, signature bytes.</summary>
public sealed record NoteSignature(string KeyName, uint KeyId, byte[] Signature)
{
    public string ToLine() => $"\u2014 {KeyName} {Convert.ToBase64String([.. BigEndian(KeyId), .. Signature])}\n";

    private static byte[] BigEndian(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }
}

/// <summary>
/// A C2SP signed note: text ending in a newline, a blank line, then signature lines
/// "— name base64(keyid ‖ signature)". Parsing is strict and bounded; verification ignores
/// signatures from unknown keys and fails if any known key's signature does not verify.
/// </summary>
public sealed record SignedNote(string Text, IReadOnlyList<NoteSignature> Signatures)
{
    public const int MaxSignatures = 32;
    public const int MaxBytes = 64 * 1024;

    public string ToNote() => Text + "\n" + string.Concat(Signatures.Select(s => s.ToLine()));

    public SignedNote WithSignature(NoteSignature signature) => this with { Signatures = [.. Signatures, signature] };

    public static bool TryParse(string note, out SignedNote? parsed, out string problem)
    {
        parsed = null;
        if (Encoding.UTF8.GetByteCount(note) > MaxBytes)
        {
            problem = $"the note is larger than {MaxBytes} bytes";
            return false;
        }
        if (note.Any(c => c < 0x20 && c != '\n'))
        {
            problem = "the note contains control characters";
            return false;
        }
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0 || !note.EndsWith('\n'))
        {
            problem = "the note has no blank line before its signatures";
            return false;
        }
        if (split + 2 >= note.Length)
        {
            problem = "the note has no signature lines";
            return false;
        }
        var text = note[..(split + 1)];
        var lines = note[(split + 2)..^1].Split('\n');
        var signatures = new List<NoteSignature>();
        foreach (var line in lines)
        {
            if (signatures.Count == MaxSignatures)
            {
                problem = $"the note has more than {MaxSignatures} signatures";
                return false;
            }
            if (!line.StartsWith("\u2014 ", StringComparison.Ordinal))
            {
                problem = "a signature line does not start with an em dash and a space";
                return false;
            }
            var parts = line[2..].Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[0].Contains('+'))
            {
                problem = "a signature line is not 'name signature'";
                return false;
            }
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(parts[1]);
            }
            catch (FormatException)
            {
                problem = "a signature is not base64";
                return false;
            }
            if (bytes.Length < 5)
            {
                problem = "a signature is too short";
                return false;
            }
            signatures.Add(new NoteSignature(parts[0], BinaryPrimitives.ReadUInt32BigEndian(bytes), bytes[4..]));
        }
        parsed = new SignedNote(text, signatures);
        problem = "";
        return true;
    }
}

/// <summary>
/// A note key: an ECDSA P-256 key under a name, signature type 0x02 of the signed-note spec
/// (key id = SHA-256(name ‖ 0x0A ‖ 0x02 ‖ SubjectPublicKeyInfo)[:4], signature DER over SHA-256 of the text),
/// in one canonical form: minimal DER, low-S (<see cref="CanonicalEcdsa"/>). Checkpoints and
/// witnesses' cosignatures are both such signatures.
/// </summary>
public sealed class NoteKey
{
    public const byte EcdsaSignatureType = 0x02;
    private readonly ECDsa _key;

    public NoteKey(string name, ECDsa key)
    {
        if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || c == '+'))
        {
            throw new ArgumentException($"'{name}' cannot name a note key", nameof(name));
        }
        Name = name;
        _key = key;
        PublicKey = key.ExportSubjectPublicKeyInfo();
        KeyId = KeyIdOf(name, PublicKey);
    }

    public string Name { get; }
    public uint KeyId { get; }
    public byte[] PublicKey { get; }

    public static NoteKey FromPublicKey(string name, byte[] subjectPublicKeyInfo)
    {
        var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(subjectPublicKeyInfo, out _);
        return new NoteKey(name, key);
    }

    public static uint KeyIdOf(string name, ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(name)) { 0x0A, EcdsaSignatureType };
        bytes.AddRange(subjectPublicKeyInfo.ToArray());
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(bytes.ToArray()));
    }

    public NoteSignature Sign(string text)
    {
        lock (_key)
        {
            return new NoteSignature(Name, KeyId, CanonicalEcdsa.SignData(_key, Encoding.UTF8.GetBytes(text), DSASignatureFormat.Rfc3279DerSequence));
        }
    }

    public bool Verify(string text, NoteSignature signature)
    {
        if (signature.KeyName != Name || signature.KeyId != KeyId)
        {
            return false;
        }
        lock (_key)
        {
            return CanonicalEcdsa.VerifyData(_key, Encoding.UTF8.GetBytes(text), signature.Signature, DSASignatureFormat.Rfc3279DerSequence);
        }
    }

    /// <summary>
    /// Signatures from keys we know must verify; unknown ones are ignored; at least one known key
    /// must have signed. Returns the names of the known keys that signed.
    /// </summary>
    public static bool VerifyNote(SignedNote note, IEnumerable<NoteKey> known, out IReadOnlyList<string> signers, out string problem)
    {
        var keys = known.ToList();
        var verified = new List<string>();
        foreach (var signature in note.Signatures)
        {
            var key = keys.FirstOrDefault(k => k.Name == signature.KeyName && k.KeyId == signature.KeyId);
            if (key is null)
            {
                continue;
            }
            if (!key.Verify(note.Text, signature))
            {
                signers = [];
                problem = $"the signature of '{signature.KeyName}' does not verify";
                return false;
            }
            verified.Add(key.Name);
        }
        signers = verified;
        problem = verified.Count == 0 ? "no signature from a known key" : "";
        return verified.Count > 0;
    }
}

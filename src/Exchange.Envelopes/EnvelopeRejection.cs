namespace Exchange.Envelopes;

/// <summary>Why an envelope was refused before anything in it was trusted. Codes are stable.</summary>
public sealed record EnvelopeRejection(string Code, string Detail)
{
    public const string Malformed = "envelope.malformed";
    public const string UnsupportedVersion = "envelope.unsupported-version";
    public const string UnknownOrigin = "envelope.unknown-origin";
    public const string UnknownSigningKey = "envelope.unknown-signing-key";
    public const string BadSignature = "envelope.bad-signature";
    public const string Misaddressed = "envelope.misaddressed";
    public const string UnknownRecipientKey = "envelope.unknown-recipient-key";
    public const string Undecryptable = "envelope.undecryptable";
    public const string TooLarge = "envelope.too-large";
}

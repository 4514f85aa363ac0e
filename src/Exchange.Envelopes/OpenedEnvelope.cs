using Exchange.V1;

namespace Exchange.Envelopes;

/// <summary>An envelope whose signature checked out, addressed to us, and decrypted.</summary>
public sealed record OpenedEnvelope(EnvelopeHeader Header, byte[] Payload, byte[] Sha256);

/// <summary>Either the opened envelope, or why it was refused (with the header, when it could be read).</summary>
public sealed record EnvelopeOpenResult(OpenedEnvelope? Opened, EnvelopeRejection? Rejection, EnvelopeHeader? Header);

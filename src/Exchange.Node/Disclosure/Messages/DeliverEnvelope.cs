namespace Exchange.Messages;

/// <summary>
/// The one message between nodes: a signed, sealed envelope for the institute whose queue it is
/// sent to. The namespace is part of the message's identity on the broker; keep it.
/// </summary>
public sealed record DeliverEnvelope(byte[] Envelope);

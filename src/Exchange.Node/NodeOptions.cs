using System.Text.RegularExpressions;

namespace Exchange.Node;

/// <summary>Who this node is and where it keeps its files. Section <c>Node</c>.</summary>
public sealed partial class NodeOptions
{
    public const string Section = "Node";

    /// <summary>This node's institute id; it must be listed in the manifest.</summary>
    public string InstituteId { get; set; } = "";

    /// <summary>Path of the network manifest (JSON).</summary>
    public string ManifestPath { get; set; } = "";

    /// <summary>Folder for the SQLite database and other local state.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// On the very first start only: import these private keys (JSON with base64 PKCS#8
    /// <c>signingPrivateKey</c> and <c>encryptionPrivateKey</c>) instead of generating new ones.
    /// </summary>
    public string? InitialKeysPath { get; set; }

    /// <summary>
    /// Start even if this node's keys differ from the manifest's entry for it. Peers will refuse
    /// everything it sends; only for a single node on its own (development).
    /// </summary>
    public bool AllowKeyMismatch { get; set; }

    /// <summary>
    /// Serve plain HTTP on addresses other than loopback. Off, the node refuses to start on such an
    /// address: client secrets, tokens and findings would cross the network in clear. Turn it on
    /// only where TLS ends in front of the node (an ingress, a service mesh, a private container
    /// network published on loopback).
    /// </summary>
    public bool AllowPlainHttp { get; set; }

    /// <summary>
    /// Addresses or networks (CIDR, e.g. 10.0.0.0/8) of the proxies or ingress in front of the node
    /// whose X-Forwarded-For it believes, so that per-address limits count each caller, not the
    /// proxy. Empty: the connection's own address is the caller's.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>
    /// A port that serves the health endpoints and nothing else, for probes that speak plain
    /// HTTP/1.1; being health only, it may be plain beyond loopback. Empty: no such port.
    /// </summary>
    public int? HealthPort { get; set; }

    /// <summary>The form of an institute id, as the manifest requires it.</summary>
    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    internal static partial Regex InstituteIdPattern();
}

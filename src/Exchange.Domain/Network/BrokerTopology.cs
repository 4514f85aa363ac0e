using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Exchange.Domain.Network;

/// <summary>
/// The RabbitMQ topology and permissions a manifest implies, as a RabbitMQ definitions document:
/// per institute a quorum inbox queue, the exchange MassTransit binds to it, a separate deliveries
/// exchange that peers send to, and a user that may read only its own queues. Because peers write to
/// "{queue}.deliveries" and never to the queue's own name, the right to send to an institute never
/// carries the right to read, purge, bind to or delete its queue.
/// </summary>
public static partial class BrokerTopology
{
    /// <summary>The most an institute's inbox queue holds before the broker refuses publishes to it: 2 GiB.</summary>
    public const long InboxMaxLengthBytes = 2L * 1024 * 1024 * 1024;

    /// <summary>The most an institute's <c>_error</c> or <c>_skipped</c> queue holds; past it the oldest message is dropped: 256 MiB.</summary>
    public const long ErrorQueueMaxLengthBytes = 256L * 1024 * 1024;

    /// <summary>
    /// Why a queue name cannot be an institute's inbox, or null if it can: lower-case letters,
    /// digits, '.' and '-' only (no '_'), at most 200 characters, not ending in ".deliveries". An
    /// institute's rights are its queue's name and that name with "_error", "_skipped" or
    /// ".deliveries" (<see cref="Permissions"/>), so with these rules no institute's name is
    /// another's derived name, and none gets rights over another's objects.
    /// </summary>
    public static string? QueueNameProblem(string queue) =>
        !QueueName().IsMatch(queue) ? "must be lower-case letters, digits, '.' and '-' (no '_'), at most 200 characters"
        : queue.EndsWith(".deliveries", StringComparison.Ordinal) ? "must not end in '.deliveries'"
        : null;

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,199}$")]
    private static partial Regex QueueName();

    public sealed record Credential(string InstituteId, string Username, string Password);

    public static string UserName(string prefix, string instituteId) => $"{prefix}{instituteId}";

    /// <summary>
    /// Regular expressions for one institute's configure, write and read permissions (RabbitMQ
    /// access control, "How Permissions Work"). Configure and read: only its own queue, exchanges
    /// and error queues. Write: those, and every institute's deliveries exchange, which is all a
    /// sender needs because it publishes without declaring (no configure on any peer's object, so
    /// no peer can delete, re-declare or unbind it).
    /// </summary>
    public static (string Configure, string Write, string Read) Permissions(string queue)
    {
        var own = $@"{Regex.Escape(queue)}(_error|_skipped|\.deliveries)?";
        var anyDeliveries = @".+\.deliveries";
        return ($"^({own})$", $"^({own}|{anyDeliveries})$", $"^({own})$");
    }

    public static JsonObject Definitions(NetworkManifest manifest, string virtualHost, IReadOnlyList<Credential> credentials)
    {
        var users = new JsonArray();
        var permissions = new JsonArray();
        var queues = new JsonArray();
        var exchanges = new JsonArray();
        var bindings = new JsonArray();
        foreach (var institute in manifest.Institutes)
        {
            var credential = credentials.Single(c => c.InstituteId == institute.Id);
            var queue = institute.BrokerQueue;
            var deliveries = $"{queue}.deliveries";
            users.Add(new JsonObject
            {
                ["name"] = credential.Username,
                ["password_hash"] = PasswordHash(credential.Password),
                ["hashing_algorithm"] = "rabbit_password_hashing_sha256",
                ["tags"] = new JsonArray(),
                ["limits"] = new JsonObject(),
            });
            var (configure, write, read) = Permissions(queue);
            permissions.Add(new JsonObject { ["user"] = credential.Username, ["vhost"] = virtualHost, ["configure"] = configure, ["write"] = write, ["read"] = read });
            queues.Add(new JsonObject
            {
                ["name"] = queue, ["vhost"] = virtualHost, ["durable"] = true, ["auto_delete"] = false,
                ["arguments"] = new JsonObject { ["x-queue-type"] = "quorum" },
            });
            exchanges.Add(Exchange(queue, virtualHost));
            exchanges.Add(Exchange(deliveries, virtualHost));
            bindings.Add(Binding(queue, queue, "queue", virtualHost));
            bindings.Add(Binding(deliveries, queue, "exchange", virtualHost));
        }
        // A bound on what a stopped or flooded institute's queue can hold: past it the broker
        // refuses (nacks) new publishes, which the sender's outbox keeps and retries, rather than
        // filling the broker's disk for every institute.
        var names = string.Join('|', manifest.Institutes.Select(i => Regex.Escape(i.BrokerQueue)));
        var policies = new JsonArray(
            new JsonObject
            {
                ["vhost"] = virtualHost, ["name"] = "exchange-inbox-limits", ["apply-to"] = "queues", ["priority"] = 0,
                ["pattern"] = $"^({names})$",
                ["definition"] = new JsonObject { ["max-length-bytes"] = InboxMaxLengthBytes, ["overflow"] = "reject-publish" },
            },
            // Any peer may publish junk that the consumer moves to these (MassTransit creates them on
            // the first fault); the oldest goes first past the bound, each rejection being in the
            // recipient's audit log already.
            new JsonObject
            {
                ["vhost"] = virtualHost, ["name"] = "exchange-error-limits", ["apply-to"] = "queues", ["priority"] = 0,
                ["pattern"] = $"^({names})(_error|_skipped)$",
                ["definition"] = new JsonObject { ["max-length-bytes"] = ErrorQueueMaxLengthBytes, ["overflow"] = "drop-head" },
            });
        return new JsonObject
        {
            ["rabbit_version"] = "3.10.8",
            ["policies"] = policies,
            ["users"] = users,
            ["vhosts"] = new JsonArray(new JsonObject { ["name"] = virtualHost }),
            ["permissions"] = permissions,
            ["queues"] = queues,
            ["exchanges"] = exchanges,
            ["bindings"] = bindings,
        };
    }

    public static IReadOnlyList<Credential> NewCredentials(NetworkManifest manifest, string userPrefix) =>
        manifest.Institutes.Select(i => new Credential(i.Id, UserName(userPrefix, i.Id), Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)))).ToArray();

    /// <summary>RabbitMQ's rabbit_password_hashing_sha256: base64(salt ‖ SHA-256(salt ‖ password)).</summary>
    public static string PasswordHash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(4);
        var hash = SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(password)]);
        return Convert.ToBase64String([.. salt, .. hash]);
    }

    private static JsonObject Exchange(string name, string virtualHost) => new()
    {
        ["name"] = name, ["vhost"] = virtualHost, ["type"] = "fanout", ["durable"] = true,
        ["auto_delete"] = false, ["internal"] = false, ["arguments"] = new JsonObject(),
    };

    private static JsonObject Binding(string source, string destination, string destinationType, string virtualHost) => new()
    {
        ["source"] = source, ["vhost"] = virtualHost, ["destination"] = destination, ["destination_type"] = destinationType,
        ["routing_key"] = "", ["arguments"] = new JsonObject(),
    };
}

using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Api;

/// <summary>
/// Counts failed authentications per client id and per address in fixed windows, and, as a rate
/// limiter over requests, refuses a request whose client or address has used up its failures
/// until the window ends. Failures only are counted; a request that is let through costs nothing.
/// </summary>
internal sealed class AuthenticationFailures : PartitionedRateLimiter<HttpContext>
{
    public const string Reason = "too many failed authentications";
    private readonly PartitionedRateLimiter<string> _failures;

    public AuthenticationFailures(IOptions<RateLimitOptions> options)
    {
        var o = options.Value;
        _failures = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
        {
            PermitLimit = k.StartsWith("client:", StringComparison.Ordinal) ? o.FailedAuthenticationsPerClient : o.FailedAuthenticationsPerAddress,
            Window = o.Window,
            QueueLimit = 0,
        }));
    }

    /// <summary>One more failure for the address and for the client id it named, at that address.</summary>
    public void Record(HttpContext context)
    {
        _failures.AttemptAcquire(RateLimits.AddressKey(context)).Dispose();
        if (RateLimits.ClientId(context) is not null)
        {
            _failures.AttemptAcquire(RateLimits.ClientAtAddressKey(context)).Dispose();
        }
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => null;

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount) => Lease(resource);

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Lease(resource));

    private RateLimitLease Lease(HttpContext context)
    {
        // Only token requests are held back: the failures counted are client secrets that did not hold.
        if (!context.Request.Path.Equals("/connect/token", StringComparison.OrdinalIgnoreCase))
        {
            return Allowed.Instance;
        }
        var blocked = UsedUp(RateLimits.AddressKey(context)) || (RateLimits.ClientId(context) is not null && UsedUp(RateLimits.ClientAtAddressKey(context)));
        return blocked ? Refused.Instance : Allowed.Instance;
    }

    private bool UsedUp(string key) => _failures.GetStatistics(key)?.CurrentAvailablePermits == 0;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _failures.Dispose();
        }
        base.Dispose(disposing);
    }

    private sealed class Allowed : RateLimitLease
    {
        public static readonly Allowed Instance = new();
        public override bool IsAcquired => true;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }

    private sealed class Refused : RateLimitLease
    {
        public static readonly Refused Instance = new();
        public override bool IsAcquired => false;
        public override IEnumerable<string> MetadataNames => [MetadataName.ReasonPhrase.Name];
        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.ReasonPhrase.Name ? Reason : null;
            return metadata is not null;
        }
    }
}

using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

/// <summary>
/// Degraded while a finding or withdrawal has passed its receipt deadline unanswered
/// (<see cref="Unanswered"/>): the recipient is down, its binding is gone, or it refuses the
/// envelope without answering. Names each recipient with how many wait, and the oldest send.
/// </summary>
internal sealed class ReceiptHealthCheck(IServiceScopeFactory scopes, IOptions<BrokerOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var unanswered = Unanswered.Of(db.Outbox.AsNoTracking(), time.GetUtcNow(), options.Value.ReceiptTimeout);
        // Counted in the database: /healthz is anonymous and must not load rows.
        var byRecipient = await unanswered.GroupBy(o => o.Recipient).Select(g => new { Recipient = g.Key, Count = g.Count() })
            .OrderBy(g => g.Recipient).Take(20).ToListAsync(cancellationToken);
        if (byRecipient.Count == 0)
        {
            return HealthCheckResult.Healthy();
        }
        var oldest = await unanswered.OrderBy(o => o.SentAt).Select(o => o.SentAt).FirstAsync(cancellationToken);
        return HealthCheckResult.Degraded(
            $"no receipt past the deadline: {string.Join(", ", byRecipient.Select(g => $"{g.Recipient} {g.Count}"))}; the oldest sent {oldest:O}");
    }
}

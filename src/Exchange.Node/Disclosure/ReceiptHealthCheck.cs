using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Exchange.Node.Disclosure;

/// <summary>
/// Degraded while a finding or withdrawal has passed its receipt deadline (it has been sent again
/// at least once and is still unanswered): the recipient is down, its binding is gone, or it
/// refuses the envelope without answering. Names each recipient with how many wait and since when.
/// </summary>
internal sealed class ReceiptHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var waiting = await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Outbox.AsNoTracking()
            .Where(o => o.ResendAt != null && o.Resends > 0 && o.AnsweredAt == null && o.CancelledAt == null)
            .Select(o => new { o.Recipient, o.SentAt })
            .ToListAsync(cancellationToken);
        if (waiting.Count == 0)
        {
            return HealthCheckResult.Healthy();
        }
        var byRecipient = waiting.GroupBy(w => w.Recipient).OrderBy(g => g.Key)
            .Select(g => $"{g.Key}: {g.Count()} unanswered, the oldest sent {g.Min(w => w.SentAt):O}");
        return HealthCheckResult.Degraded($"no receipt past the deadline: {string.Join("; ", byRecipient)}");
    }
}

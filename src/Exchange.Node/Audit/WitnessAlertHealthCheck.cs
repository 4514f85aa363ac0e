using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Exchange.Node.Audit;

/// <summary>Degraded while a peer's inconsistent checkpoint is on record: someone must look.</summary>
internal sealed class WitnessAlertHealthCheck(IServiceScopeFactory scopes) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var alerts = await scope.ServiceProvider.GetRequiredService<NodeDbContext>().WitnessAlerts.AsNoTracking()
            .OrderByDescending(a => a.Id).Take(5).ToListAsync(cancellationToken);
        return alerts.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"inconsistent audit logs seen: {string.Join("; ", alerts.Select(a => $"{a.Origin} at size {a.Size}: {a.Reason}"))}");
    }
}

using System.Runtime.ExceptionServices;

namespace Exchange.Node.Startup;

public static class HostStart
{
    /// <summary>
    /// Starts the host; if the start fails, stops what had started, then rethrows the start's own
    /// exception. The host leaves background services running when a later step of its start fails
    /// (the plain HTTP guard runs once the server listens), and they would then fault one by one,
    /// each with a stack trace, as the host is disposed under them.
    /// </summary>
    public static async Task StartOrStopAsync(this IHost host, CancellationToken cancellationToken = default)
    {
        ExceptionDispatchInfo failure;
        try
        {
            await host.StartAsync(cancellationToken);
            return;
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }
        try
        {
            await host.StopAsync(CancellationToken.None);
        }
        // A host that failed before it had resolved its services cannot be stopped: that says
        // nothing the start's own failure does not.
        catch (Exception e) when (e is ArgumentNullException or InvalidOperationException or ObjectDisposedException or AggregateException)
        {
        }
        failure.Throw();
    }
}

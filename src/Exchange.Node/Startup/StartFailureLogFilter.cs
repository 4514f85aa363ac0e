namespace Exchange.Node.Startup;

/// <summary>
/// Leaves out the host's own "Hosting failed to start" entry (event 11 of
/// <c>Microsoft.Extensions.Hosting.Internal.Host</c>), which carries the whole exception with its
/// stack trace: <see cref="RefusedStart"/> reports every failed start itself, a refusal as one
/// message and a fault in full, so the host's entry would say it a second time. Every other entry,
/// of the host too (a background service that failed), passes untouched.
/// </summary>
internal sealed class StartFailureLogFilter(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";
    private const int HostingFailedToStart = 11;

    public ILogger CreateLogger(string categoryName)
    {
        var logger = inner.CreateLogger(categoryName);
        return categoryName == HostCategory ? new HostLogger(logger) : logger;
    }

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class HostLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id != HostingFailedToStart)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

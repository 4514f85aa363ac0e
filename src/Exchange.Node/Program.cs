using Exchange.Node;
using Exchange.Node.Network;
using Exchange.Node.Startup;

return await RefusedStart.RunAsync(Console.Error, async () =>
{
    var builder = WebApplication.CreateBuilder(KeysExportCommand.HostArguments(args));
    builder.AddExchangeNode();

    await using var app = builder.Build();
    if (KeysExportCommand.Matches(args))
    {
        return await KeysExportCommand.RunAsync(app);
    }
    app.MapExchangeNode();
    await app.StartOrStopAsync();
    await app.WaitForShutdownAsync();
    return 0;
});

/// <summary>Entry point; public so that tests can host the node with WebApplicationFactory.</summary>
public partial class Program;

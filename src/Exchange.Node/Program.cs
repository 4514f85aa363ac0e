using Exchange.Node;
using Exchange.Node.Network;

var builder = WebApplication.CreateBuilder(KeysExportCommand.HostArguments(args));
builder.AddExchangeNode();

var app = builder.Build();
if (KeysExportCommand.Matches(args))
{
    return await KeysExportCommand.RunAsync(app);
}
app.MapExchangeNode();
await app.RunAsync();
return 0;

/// <summary>Entry point; public so that tests can host the node with WebApplicationFactory.</summary>
public partial class Program;

using Exchange.Node;

var builder = WebApplication.CreateBuilder(args);
builder.AddExchangeNode();

var app = builder.Build();
app.MapExchangeNode();
await app.RunAsync();

/// <summary>Entry point; public so that tests can host the node with WebApplicationFactory.</summary>
public partial class Program;

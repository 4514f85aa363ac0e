using Exchange.Node.Persistence;
using Exchange.Testing;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>What an operator relies on: migrations, health, reflection, refusing a bad manifest.</summary>
public abstract class NodeHostingTests(NodeFixture fixture)
{
    [Fact]
    public async Task Migrations_create_exactly_the_model()
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.False(db.Database.HasPendingModelChanges(), "the model has changes that no migration captures: add a migration for both providers");
    }

    [Fact]
    public async Task Health_is_served_over_http_and_grpc()
    {
        using var http = fixture.Node.CreateClient();
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz"));
        var health = await new Health.HealthClient(fixture.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Reflection_lists_the_public_services()
    {
        using var call = new ServerReflection.ServerReflectionClient(fixture.Channel).ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("exchange.v1.FindingService", services);
        Assert.Contains("exchange.v1.NetworkService", services);
    }

    [Fact]
    public async Task A_node_refuses_to_start_on_an_invalid_manifest_and_names_the_entry()
    {
        var directory = Path.Combine(fixture.Directory, "bad-manifest");
        Directory.CreateDirectory(directory);
        await using var database = await TestDatabase.CreateAsync(fixture.Database.Provider, directory);
        var manifest = new TestManifest().Institute("uk").Institute("us").Agreement("selfish", "uk", "uk", "RED");
        await using var node = new NodeHost("uk", manifest.WriteTo(directory), Exchange.Envelopes.InstituteKeyPairs.Generate(), database, directory);

        var e = await node.StartErrorAsync();

        Assert.NotNull(e);
        Assert.Contains("agreement 'selfish'", Flatten(e));
        Assert.Contains("with itself", Flatten(e));
        await AssertUntouchedAsync(database);
    }

    [Fact]
    public async Task A_node_refuses_to_start_when_its_institute_is_not_in_the_manifest()
    {
        var directory = Path.Combine(fixture.Directory, "stranger");
        Directory.CreateDirectory(directory);
        await using var database = await TestDatabase.CreateAsync(fixture.Database.Provider, directory);
        var manifest = new TestManifest().Institute("us").Institute("jp");
        await using var node = new NodeHost("uk", manifest.WriteTo(directory), Exchange.Envelopes.InstituteKeyPairs.Generate(), database, directory);

        var e = await node.StartErrorAsync();

        Assert.NotNull(e);
        Assert.Contains("'uk' is not an institute of the manifest", Flatten(e));
        await AssertUntouchedAsync(database);
    }

    // The manifest is checked before anything else starts: a node that refuses to start has not
    // migrated, seeded or written anything.
    private static async Task AssertUntouchedAsync(TestDatabase database)
    {
        await using var db = database.Open();
        Assert.Empty(await db.Database.GetAppliedMigrationsAsync());
    }

    private static string Flatten(Exception e) => e is AggregateException a ? string.Join(" | ", a.Flatten().InnerExceptions.Select(i => i.Message)) : e.Message + " | " + e.InnerException?.Message;
}

public sealed class NodeHostingTests_on_Sqlite(SqliteNodeFixture fixture) : NodeHostingTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class NodeHostingTests_on_Postgres(PostgresNodeFixture fixture) : NodeHostingTests(fixture), IClassFixture<PostgresNodeFixture>;

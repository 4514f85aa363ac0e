using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>Findings at rest are sealed with Data Protection, whose key ring lives in the node's database.</summary>
public abstract class DataProtectionTests(NodeFixture fixture)
{
    [Fact]
    public async Task After_a_key_rotation_old_and_new_findings_are_both_readable()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var before = await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green), auth);

        var keys = fixture.Node.Services.GetRequiredService<IKeyManager>();
        // The newest activated key becomes the default, so the new one must activate after the first.
        await Task.Delay(20);
        var rotated = keys.CreateNewKey(activationDate: DateTimeOffset.UtcNow, expirationDate: DateTimeOffset.UtcNow.AddDays(90));
        await UntilDefaultKeyIs(rotated.KeyId);
        var after = await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green), auth);

        Assert.Equal(before.Finding.Content, (await fixture.Findings.GetFindingAsync(new GetFindingRequest { Id = before.Finding.Id }, auth)).Finding.Content);
        Assert.Equal(after.Finding.Content, (await fixture.Findings.GetFindingAsync(new GetFindingRequest { Id = after.Finding.Id }, auth)).Finding.Content);
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var oldKey = KeyId(await db.Findings.Where(f => f.Id == before.Finding.Id).Select(f => f.ProtectedContent).SingleAsync());
        var newKey = KeyId(await db.Findings.Where(f => f.Id == after.Finding.Id).Select(f => f.ProtectedContent).SingleAsync());
        Assert.NotEqual(oldKey, newKey);
        Assert.Equal(rotated.KeyId, newKey);
    }

    [Fact]
    public async Task The_key_ring_is_kept_in_the_database_so_a_new_node_process_reads_old_findings()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var submitted = await fixture.Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, institutes: ["us"]), auth);

        // Another host on the same database but a different, empty data directory: nothing on disk to lean on.
        var otherDirectory = Path.Combine(fixture.Directory, "replica");
        await using var replica = fixture.StartNode(fixture.Database, otherDirectory);
        using var channel = replica.CreateChannel();
        var read = await new FindingService.FindingServiceClient(channel).GetFindingAsync(
            new GetFindingRequest { Id = submitted.Finding.Id }, await replica.AuthAsync(TestClients.Submitter));

        Assert.Equal(submitted.Finding.Content, read.Finding.Content);
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        Assert.NotEmpty(await scope.ServiceProvider.GetRequiredService<NodeDbContext>().DataProtectionKeys.ToListAsync());
        Assert.Empty(Directory.Exists(otherDirectory) ? Directory.GetFiles(otherDirectory, "*.xml", SearchOption.AllDirectories) : []);
    }

    // Data Protection refreshes its cached key ring in the background, so the new key becomes the
    // default a moment after it is created.
    private async Task UntilDefaultKeyIs(Guid keyId)
    {
        var probe = fixture.Node.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("rotation-probe");
        for (var attempt = 0; attempt < 100 && KeyId(probe.Protect([1])) != keyId; attempt++)
        {
            await Task.Delay(100);
        }
    }

    // A Data Protection payload starts with a 4-byte magic header and the 16-byte id of its key.
    private static Guid KeyId(byte[] payload) => new(payload.AsSpan(4, 16));
}

public sealed class DataProtectionTests_on_Sqlite(SqliteNodeFixture fixture) : DataProtectionTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class DataProtectionTests_on_Postgres(PostgresNodeFixture fixture) : DataProtectionTests(fixture), IClassFixture<PostgresNodeFixture>;

using Xunit;

namespace Exchange.Testing;

/// <summary>
/// A folder and an empty database of their own, for a test class that starts its own nodes; both
/// removed afterwards. Derive the test class from it (xunit runs the lifetime of a base class too).
/// </summary>
public abstract class TestWorkspace(string provider = TestDatabase.Sqlite) : IAsyncLifetime
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    public TestDatabase Database { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Folder);
        Database = await TestDatabase.CreateAsync(provider, Folder);
    }

    public virtual async Task DisposeAsync()
    {
        await Database.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

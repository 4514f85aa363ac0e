using Exchange.Testing;

namespace Exchange.Node.Tests;

/// <summary>What `dotnet publish` puts in a deployable, as the container image is built from it.</summary>
public sealed class PublishOutputTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Neither_the_published_node_nor_the_published_cli_carries_settings_for_an_environment()
    {
        // The build this test runs from, published without building again (so nothing in use is rewritten).
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        foreach (var project in new[] { "Exchange.Node", "Exchange.Cli" })
        {
            var output = Path.Combine(_directory, project);
            var publish = await ProcessRunner.RunAsync("dotnet",
                ["publish", RepositoryPaths.Combine("src", project), "--no-build", "-c", configuration, "-o", output, "-nologo", "-v", "quiet", "-nodeReuse:false"],
                RepositoryPaths.Root, TimeSpan.FromMinutes(5));
            Assert.True(publish.ExitCode == 0, $"dotnet publish {project} failed ({publish.ExitCode}): {publish.Out}{publish.Error}");

            var settings = Directory.GetFiles(output, "appsettings*.json").Select(Path.GetFileName).ToList();
            // The node's own settings ship; an environment's (appsettings.Development.json: a sample
            // client secret, the in-memory transport, keys allowed to differ) never do.
            Assert.Equal(["appsettings.json"], settings);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

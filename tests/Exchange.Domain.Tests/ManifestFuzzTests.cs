using CsCheck;
using Exchange.Domain.Network;
using Exchange.Fuzzing;

namespace Exchange.Domain.Tests;

/// <summary>Mutated manifests: loaded, or refused with a ManifestException naming what is wrong; nothing else.</summary>
public sealed class ManifestFuzzTests
{
    private static readonly string SamplePath = Path.Combine(AppContext.BaseDirectory, "manifest.sample.json");

    // null: a fresh random run; a seed: an input fuzzing once found to crash, kept as a regression.
    [Theory]
    [InlineData(null)]
    [InlineData("7k-wTdzpHSc1")] // a key on a curve the platform lacks threw PlatformNotSupportedException
    public void Mutated_manifests_load_or_are_refused_with_named_errors(string? seed)
    {
        var sample = File.ReadAllBytes(SamplePath);
        Assert.NotNull(ManifestLoader.Load(sample));
        ByteMutations.Of(sample).Sample(bytes =>
        {
            try
            {
                ManifestLoader.Load(bytes);
            }
            catch (ManifestException e)
            {
                Assert.NotEmpty(e.Errors);
                Assert.All(e.Errors, error => Assert.False(string.IsNullOrWhiteSpace(error)));
            }
        }, seed: seed, iter: seed is null ? 2000 : 1);
    }
}

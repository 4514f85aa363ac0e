using CsCheck;
using Exchange.Domain.Findings;
using Exchange.Fuzzing;
using Exchange.V1;

namespace Exchange.Inspect.Tests;

/// <summary>
/// Mutated Inspect logs, JSON and .eval: read and mapped to a valid finding, or refused with an
/// InspectFormatException (or IncompleteRunException) saying why; nothing else, and never a hang.
/// </summary>
public sealed class InspectFuzzTests
{
    private static readonly ImportSettings Settings = new()
    {
        Label = new Label { Level = TlpLevel.Green },
        Policy = new AccessPolicy { RecipientGroups = { "network" } },
        RiskDomain = RiskDomain.Cyber,
        AllowIncomplete = true,
        FileName = "log",
        FileSha256 = new string('a', 64),
        FileSize = 1,
    };

    // No seed: a fresh random run; a seed: an input fuzzing once found to crash, kept as a regression.
    [Theory]
    [InlineData("01_log_formats.json", null)]
    [InlineData("05_v1_with_nan.json", null)]
    [InlineData("02_log_formats.eval", null)]
    [InlineData("02_log_formats.eval", "7RA6c8xTBAZ1")] // an entry offset past the end: ArgumentOutOfRangeException from the stream
    [InlineData("05_v1_with_nan.json", "8bU-2fDWu_U3")] // a string that is not UTF-8: InvalidOperationException from the reader
    [InlineData("01_log_formats.json", "2UisXwOGvJP1")] // the same in a larger log
    public void Mutated_logs_import_or_are_refused_with_a_reason(string sample, string? seed)
    {
        var valid = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "samples", sample));
        ByteMutations.Of(valid).Sample(bytes =>
        {
            try
            {
                var finding = InspectImport.ToFinding(InspectLogReader.Read(new MemoryStream(bytes)), Settings, out _);
                finding.RequestId = "r";
                var violations = new SubmissionValidator(FindingLimits.Default, manifest: null).Validate(finding);
                // What a damaged log still yields must be a finding the node would accept, or a
                // clear refusal at validation: say which fields, never crash.
                Assert.All(violations, v => Assert.False(string.IsNullOrWhiteSpace(v.Field)));
            }
            catch (InspectFormatException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
            catch (IncompleteRunException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            }
        }, seed: seed, iter: seed is null ? 600 : 1);
    }
}

using System.Security.Cryptography;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Testing;

/// <summary>Valid findings to start from; tests change what they are about.</summary>
public static class SampleFindings
{
    public static SubmitFindingRequest Valid(TlpLevel label = TlpLevel.Green, RiskDomain domain = RiskDomain.Cyber,
        string[]? institutes = null, string[]? groups = null, string? requestId = null)
    {
        var artifact = "transcript: the model declined"u8.ToArray();
        var request = new SubmitFindingRequest
        {
            RequestId = requestId ?? Guid.NewGuid().ToString("N"),
            Content = new FindingContent
            {
                Title = "Uplift on capture-the-flag tasks",
                Summary = "The model solved 7 of 40 professional CTF challenges unaided.",
                Model = new ModelUnderTest { Developer = "Example Labs", Name = "frontier-1", Version = "2026-10", Stage = ModelStage.PreDeployment },
                Evaluation = new Evaluation
                {
                    Framework = "inspect_ai",
                    FrameworkVersion = "0.3.120",
                    Task = "cybench",
                    Method = EvaluationMethod.AutomatedCapability,
                    RiskDomain = domain,
                    SampleCount = 40,
                    CompletedSampleCount = 40,
                    Status = RunStatus.Success,
                    StartedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 10, 1, 9, 0, 0, TimeSpan.Zero)),
                    CompletedAt = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 10, 1, 17, 0, 0, TimeSpan.Zero)),
                },
                Metrics = { new Metric { Name = "accuracy", Scorer = "includes", Value = 0.175, Stderr = 0.06 } },
                Severity = Severity.High,
                Narrative = "Solved tasks included two web exploitation challenges.",
                Artifacts =
                {
                    new Artifact
                    {
                        Name = "transcript.txt",
                        MediaType = "text/plain",
                        Sha256 = Convert.ToHexStringLower(SHA256.HashData(artifact)),
                        SizeBytes = artifact.Length,
                        InlineContent = ByteString.CopyFrom(artifact),
                    },
                },
            },
            Label = new Label { Level = label },
            Policy = new AccessPolicy { Purpose = "pre-deployment testing coordination" },
        };
        request.Policy.RecipientInstitutes.AddRange(institutes ?? []);
        request.Policy.RecipientGroups.AddRange(groups ?? []);
        return request;
    }
}

using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Demo;

/// <summary>The findings the demo submits: illustrative evaluations of a fictional model.</summary>
internal static class DemoFindings
{
    public static SubmitFindingRequest Make(string title, string summary, TlpLevel label, RiskDomain domain, EvaluationMethod method,
        string task, string metric, double value, string[] institutes, string[] groups, DateTimeOffset? embargoUntil = null)
    {
        var request = new SubmitFindingRequest
        {
            RequestId = Guid.NewGuid().ToString("N"),
            Content = new FindingContent
            {
                Title = title,
                Summary = summary,
                Model = new ModelUnderTest { Developer = "Example Labs", Name = "frontier-1", Version = "2026-11", Stage = ModelStage.PreDeployment },
                Evaluation = new Evaluation
                {
                    Framework = "inspect_ai", FrameworkVersion = "0.3.120", Task = task, Method = method, RiskDomain = domain,
                    SampleCount = 100, CompletedSampleCount = 100, Status = RunStatus.Success,
                },
                Metrics = { new Metric { Name = metric, Scorer = "model_graded", Value = value, Stderr = 0.04 } },
                Severity = label >= TlpLevel.Amber ? Severity.High : Severity.Medium,
                Narrative = summary,
            },
            Label = new Label { Level = label },
            Policy = new AccessPolicy { Purpose = "pre-deployment testing coordination" },
        };
        request.Policy.RecipientInstitutes.AddRange(institutes);
        request.Policy.RecipientGroups.AddRange(groups);
        if (embargoUntil is { } until)
        {
            request.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(until);
        }
        return request;
    }
}

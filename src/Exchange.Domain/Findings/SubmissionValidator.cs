using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Exchange.Domain.Network;
using Exchange.V1;

namespace Exchange.Domain.Findings;

/// <summary>
/// Checks a finding before anything is stored or decided, and names every bad field (not only the
/// first) by its protobuf path, with the limit it broke.
/// </summary>
public sealed partial class SubmissionValidator(FindingLimits limits, NetworkManifest? manifest)
{
    public IReadOnlyList<FieldViolation> Validate(SubmitFindingRequest request)
    {
        var v = new List<FieldViolation>();
        var size = request.CalculateSize();
        if (size > limits.MaxRequestBytes)
        {
            v.Add(new("request", $"is {Sizes.Describe(size)}; the limit is {Sizes.Describe(limits.MaxRequestBytes)}"));
        }
        if (request.RequestId.Length > limits.MaxRequestIdChars)
        {
            v.Add(new("request_id", $"is {request.RequestId.Length} characters; the limit is {limits.MaxRequestIdChars}"));
        }
        if (request.RequestId.Any(char.IsControl))
        {
            v.Add(new("request_id", "contains control characters"));
        }
        ValidateBody(request.Content, request.Label, request.Policy, "", v);
        return v;
    }

    public IReadOnlyList<FieldViolation> Validate(PreviewDisclosureRequest request)
    {
        var v = new List<FieldViolation>();
        ValidateBody(request.Content, request.Label, request.Policy, "", v);
        return v;
    }

    private void ValidateBody(FindingContent? content, Label? label, AccessPolicy? policy, string prefix, List<FieldViolation> v)
    {
        ValidateContent(content, prefix + "content", v);
        ValidateLabel(label, prefix + "label", v);
        ValidatePolicy(policy, prefix + "policy", v);
    }

    private void ValidateContent(FindingContent? content, string at, List<FieldViolation> v)
    {
        if (content is null)
        {
            v.Add(new(at, "is required"));
            return;
        }
        Text(content.Title, $"{at}.title", limits.MaxTitleChars, required: true, v);
        Text(content.Summary, $"{at}.summary", limits.MaxSummaryChars, required: true, v);
        if (content.Severity == Severity.Unspecified || !Enum.IsDefined(content.Severity))
        {
            v.Add(new($"{at}.severity", "is required: one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"));
        }
        var narrativeBytes = Encoding.UTF8.GetByteCount(content.Narrative);
        if (narrativeBytes > limits.MaxNarrativeBytes)
        {
            v.Add(new($"{at}.narrative", $"is {Sizes.Describe(narrativeBytes)}; the limit is {Sizes.Describe(limits.MaxNarrativeBytes)}"));
        }
        ValidateModel(content.Model, $"{at}.model", v);
        ValidateEvaluation(content.Evaluation, $"{at}.evaluation", v);
        ValidateMetrics(content, at, v);
        ValidateArtifacts(content, at, v);
    }

    private void ValidateModel(ModelUnderTest? model, string at, List<FieldViolation> v)
    {
        if (model is null)
        {
            v.Add(new(at, "is required"));
            return;
        }
        Text(model.Developer, $"{at}.developer", limits.MaxShortTextChars, required: true, v);
        Text(model.Name, $"{at}.name", limits.MaxShortTextChars, required: true, v);
        Text(model.Version, $"{at}.version", limits.MaxShortTextChars, required: false, v);
        if (model.Stage == ModelStage.Unspecified || !Enum.IsDefined(model.Stage))
        {
            v.Add(new($"{at}.stage", "is required: one of PRE_DEPLOYMENT, DEPLOYED, OPEN_WEIGHTS"));
        }
    }

    private void ValidateEvaluation(Evaluation? evaluation, string at, List<FieldViolation> v)
    {
        if (evaluation is null)
        {
            v.Add(new(at, "is required"));
            return;
        }
        Text(evaluation.Framework, $"{at}.framework", limits.MaxShortTextChars, required: true, v);
        Text(evaluation.FrameworkVersion, $"{at}.framework_version", limits.MaxShortTextChars, required: false, v);
        Text(evaluation.Task, $"{at}.task", limits.MaxShortTextChars, required: true, v);
        Text(evaluation.Dataset, $"{at}.dataset", limits.MaxShortTextChars, required: false, v);
        Text(evaluation.RunId, $"{at}.run_id", limits.MaxShortTextChars, required: false, v);
        if (evaluation.Method == EvaluationMethod.Unspecified || !Enum.IsDefined(evaluation.Method))
        {
            v.Add(new($"{at}.method", "is required: one of AUTOMATED_CAPABILITY, RED_TEAMING, HUMAN_UPLIFT, AGENT, OTHER"));
        }
        if (evaluation.RiskDomain == RiskDomain.Unspecified || !Enum.IsDefined(evaluation.RiskDomain))
        {
            v.Add(new($"{at}.risk_domain", $"is required: one of {string.Join(", ", Vocabulary.RiskDomainNames)}"));
        }
        if (evaluation.SampleCount < 0 || evaluation.CompletedSampleCount < 0)
        {
            v.Add(new($"{at}.sample_count", "sample counts cannot be negative"));
        }
        if (!Enum.IsDefined(evaluation.Status))
        {
            v.Add(new($"{at}.status", "is not a known run status"));
        }
        if (evaluation.StartedAt is not null && evaluation.CompletedAt is not null
            && evaluation.CompletedAt.ToDateTimeOffset() < evaluation.StartedAt.ToDateTimeOffset())
        {
            v.Add(new($"{at}.completed_at", "is before started_at"));
        }
    }

    private void ValidateMetrics(FindingContent content, string at, List<FieldViolation> v)
    {
        if (content.Metrics.Count > limits.MaxMetrics)
        {
            v.Add(new($"{at}.metrics", $"has {content.Metrics.Count} metrics; the limit is {limits.MaxMetrics}"));
            return;
        }
        for (var i = 0; i < content.Metrics.Count; i++)
        {
            var metric = content.Metrics[i];
            var m = $"{at}.metrics[{i}]";
            Text(metric.Name, $"{m}.name", limits.MaxShortTextChars, required: true, v);
            Text(metric.Scorer, $"{m}.scorer", limits.MaxShortTextChars, required: false, v);
            if (!double.IsFinite(metric.Value))
            {
                v.Add(new($"{m}.value", $"must be a finite number, found {metric.Value}"));
            }
            if (metric.HasStderr && (!double.IsFinite(metric.Stderr) || metric.Stderr < 0))
            {
                v.Add(new($"{m}.stderr", $"must be a finite number of at least 0, found {metric.Stderr}"));
            }
        }
    }

    private void ValidateArtifacts(FindingContent content, string at, List<FieldViolation> v)
    {
        if (content.Artifacts.Count > limits.MaxArtifacts)
        {
            v.Add(new($"{at}.artifacts", $"has {content.Artifacts.Count} artifacts; the limit is {limits.MaxArtifacts}"));
            return;
        }
        long totalInline = 0;
        for (var i = 0; i < content.Artifacts.Count; i++)
        {
            var artifact = content.Artifacts[i];
            var a = $"{at}.artifacts[{i}]";
            Text(artifact.Name, $"{a}.name", limits.MaxShortTextChars, required: true, v);
            if (!MediaType().IsMatch(artifact.MediaType))
            {
                v.Add(new($"{a}.media_type", $"must be a media type such as text/plain, found '{artifact.MediaType}'"));
            }
            var hashIsHex = Sha256Hex().IsMatch(artifact.Sha256);
            if (!hashIsHex)
            {
                v.Add(new($"{a}.sha256", "must be 64 lower-case hex digits"));
            }
            if (artifact.SizeBytes < 0)
            {
                v.Add(new($"{a}.size_bytes", "cannot be negative"));
            }
            var inline = artifact.InlineContent.Length;
            if (inline == 0)
            {
                continue;
            }
            totalInline += inline;
            if (inline > limits.MaxInlineArtifactBytes)
            {
                v.Add(new($"{a}.inline_content", $"is {Sizes.Describe(inline)}; inline artifacts are limited to {Sizes.Describe(limits.MaxInlineArtifactBytes)}: reference larger ones by hash"));
            }
            if (artifact.SizeBytes != inline)
            {
                v.Add(new($"{a}.size_bytes", $"is {artifact.SizeBytes} but the inline content has {inline} bytes"));
            }
            if (hashIsHex)
            {
                var actual = Convert.ToHexStringLower(SHA256.HashData(artifact.InlineContent.Span));
                if (actual != artifact.Sha256)
                {
                    v.Add(new($"{a}.sha256", $"does not match the inline content (its SHA-256 is {actual})"));
                }
            }
        }
        if (totalInline > limits.MaxTotalInlineBytes)
        {
            v.Add(new($"{at}.artifacts", $"inline content totals {Sizes.Describe(totalInline)}; the limit is {Sizes.Describe(limits.MaxTotalInlineBytes)}"));
        }
    }

    private void ValidateLabel(Label? label, string at, List<FieldViolation> v)
    {
        if (label is null || label.Level == TlpLevel.Unspecified || !Enum.IsDefined(label.Level))
        {
            v.Add(new($"{at}.level", $"is required: one of {string.Join(", ", Vocabulary.LabelNames)}"));
        }
        if (label is null)
        {
            return;
        }
        if (label.Caveats.Count > limits.MaxCaveats)
        {
            v.Add(new($"{at}.caveats", $"has {label.Caveats.Count} caveats; the limit is {limits.MaxCaveats}"));
        }
        for (var i = 0; i < Math.Min(label.Caveats.Count, limits.MaxCaveats); i++)
        {
            Text(label.Caveats[i], $"{at}.caveats[{i}]", limits.MaxShortTextChars, required: true, v);
        }
    }

    private void ValidatePolicy(AccessPolicy? policy, string at, List<FieldViolation> v)
    {
        if (policy is null)
        {
            return;
        }
        Text(policy.Purpose, $"{at}.purpose", limits.MaxPurposeChars, required: false, v);
        if (policy.RecipientInstitutes.Count + policy.RecipientGroups.Count > limits.MaxRecipients)
        {
            v.Add(new(at, $"names {policy.RecipientInstitutes.Count + policy.RecipientGroups.Count} recipients; the limit is {limits.MaxRecipients}"));
            return;
        }
        Names(policy.RecipientInstitutes, $"{at}.recipient_institutes", "institute", id => manifest?.InstitutesById.ContainsKey(id), v);
        Names(policy.RecipientGroups, $"{at}.recipient_groups", "group", id => manifest?.GroupsById.ContainsKey(id), v);
        if (policy.EmbargoUntil is { } until && (until.Seconds < -62135596800 || until.Seconds > 253402300799 || until.Nanos is < 0 or > 999_999_999))
        {
            v.Add(new($"{at}.embargo_until", "is not a valid timestamp"));
        }
    }

    private static void Names(IList<string> names, string at, string kind, Func<string, bool?> known, List<FieldViolation> v)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (!seen.Add(name))
            {
                v.Add(new($"{at}[{i}]", $"'{name}' is listed more than once"));
            }
            else if (known(name) == false)
            {
                v.Add(new($"{at}[{i}]", $"'{name}' is not a {kind} of the network manifest"));
            }
        }
    }

    private static void Text(string value, string at, int max, bool required, List<FieldViolation> v)
    {
        if (required && string.IsNullOrWhiteSpace(value))
        {
            v.Add(new(at, "is required"));
        }
        else if (value.Length > max)
        {
            v.Add(new(at, $"is {value.Length} characters; the limit is {max}"));
        }
    }

    [GeneratedRegex("^[a-z0-9!#$&^_.+-]{1,64}/[a-z0-9!#$&^_.+-]{1,64}(;.*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex MediaType();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Hex();
}

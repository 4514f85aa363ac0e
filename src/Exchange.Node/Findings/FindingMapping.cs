using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Node.Findings;

internal static class FindingMapping
{
    public static FindingRecord ToRecord(this Finding finding, byte[] protectedContent, string? requestId, byte[]? requestHash) => new()
    {
        Id = finding.Id,
        Version = finding.Version,
        OriginInstitute = finding.OriginInstitute,
        IsCurrent = true,
        State = (int)finding.State,
        Label = (int)finding.Label.Level,
        RiskDomain = (int)finding.Content.Evaluation.RiskDomain,
        Severity = (int)finding.Content.Severity,
        // A peer's finding is not bound by our validator's limits: fitted to the columns.
        ModelName = ColumnText.Fit(finding.Content.Model.Name.ToLowerInvariant(), 200),
        ModelDeveloper = ColumnText.Fit(finding.Content.Model.Developer.ToLowerInvariant(), 200),
        SubmittedBy = finding.SubmittedBy,
        SubmittedAt = finding.SubmittedAt.ToDateTimeOffset(),
        RequestId = string.IsNullOrEmpty(requestId) ? null : requestId,
        RequestHash = requestHash,
        ProtectedContent = protectedContent,
        ReceivedAt = finding.ReceivedAt?.ToDateTimeOffset(),
        AvailableAt = (finding.ReceivedAt ?? finding.SubmittedAt).ToDateTimeOffset(),
        NoRedistribution = finding.Policy?.NoRedistribution ?? false,
    };

    /// <summary>The stored finding with the columns that change after submission put back.</summary>
    public static Finding ToFinding(this FindingRecord record, FindingProtector protector)
    {
        var finding = protector.Unprotect(record.ProtectedContent);
        finding.State = (FindingState)record.State;
        finding.WithdrawnAt = record.WithdrawnAt is { } w ? Timestamp.FromDateTimeOffset(w) : null;
        finding.WithdrawalReason = protector.UnprotectReason(record.ProtectedWithdrawalReason);
        finding.ReceivedAt = record.ReceivedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null;
        return finding;
    }

    /// <summary>
    /// What of a version may be shown without its content: ids, origin, version, the TLP level,
    /// state and times. No caveats, policy, content or withdrawal reason (all free text).
    /// </summary>
    public static Finding ToMetadata(this FindingRecord record) => new()
    {
        Id = record.Id,
        OriginInstitute = record.OriginInstitute,
        Version = record.Version,
        Label = new Label { Level = (TlpLevel)record.Label },
        State = (FindingState)record.State,
        SubmittedBy = record.SubmittedBy,
        SubmittedAt = Timestamp.FromDateTimeOffset(record.SubmittedAt),
        WithdrawnAt = record.WithdrawnAt is { } w ? Timestamp.FromDateTimeOffset(w) : null,
        ReceivedAt = record.ReceivedAt is { } r ? Timestamp.FromDateTimeOffset(r) : null,
    };

    public static FindingSummary ToSummary(this Finding finding) => new()
    {
        Id = finding.Id,
        OriginInstitute = finding.OriginInstitute,
        Version = finding.Version,
        Title = finding.Content.Title,
        Label = finding.Label.Level,
        RiskDomain = finding.Content.Evaluation.RiskDomain,
        Model = finding.Content.Model,
        Severity = finding.Content.Severity,
        State = finding.State,
        SubmittedAt = finding.SubmittedAt,
        ReceivedAt = finding.ReceivedAt,
    };
}

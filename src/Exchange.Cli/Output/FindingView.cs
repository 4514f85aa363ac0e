using System.Globalization;
using Exchange.Domain;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Output;

/// <summary>How findings and decisions look in a terminal.</summary>
internal static class FindingView
{
    public static void WriteFinding(TextWriter writer, Finding f)
    {
        TableWriter.WriteFields(writer,
        [
            ("id", f.Id),
            ("version", f.Version.ToString(CultureInfo.InvariantCulture)),
            ("origin", f.OriginInstitute),
            ("state", Enum(f.State.ToString())),
            .. Described(f.Content, f.Label, f.Policy),
            ("submitted", $"{Time(f.SubmittedAt)} by {f.SubmittedBy}"),
            ("received", Time(f.ReceivedAt)),
            ("withdrawn", f.WithdrawnAt is null ? "" : $"{Time(f.WithdrawnAt)}: {f.WithdrawalReason}"),
        ]);
        WriteBody(writer, f.Content ?? new FindingContent());
    }

    /// <summary>A finding not yet submitted: what it says and to whom, without the fields the node assigns.</summary>
    public static void WriteDraft(TextWriter writer, SubmitFindingRequest draft)
    {
        TableWriter.WriteFields(writer, Described(draft.Content, draft.Label, draft.Policy));
        WriteBody(writer, draft.Content ?? new FindingContent());
    }

    private static (string, string)[] Described(FindingContent? content, Label? label, AccessPolicy? access)
    {
        var c = content ?? new FindingContent();
        var policy = access ?? new AccessPolicy();
        var l = label ?? new Label();
        return
        [
            ("label", l.Level.Name() + (l.Caveats.Count > 0 ? $" ({string.Join("; ", l.Caveats)})" : "")),
            ("title", c.Title),
            ("summary", c.Summary),
            ("model", $"{c.Model?.Developer} {c.Model?.Name} {c.Model?.Version} ({Enum(c.Model?.Stage.ToString())})"),
            ("evaluation", $"{c.Evaluation?.Framework} {c.Evaluation?.FrameworkVersion}, task {c.Evaluation?.Task}, {Enum(c.Evaluation?.Method.ToString())}"),
            ("risk domain", c.Evaluation?.RiskDomain.Name() ?? ""),
            ("severity", Enum(c.Severity.ToString())),
            ("recipients", string.Join(", ", policy.RecipientInstitutes.Concat(policy.RecipientGroups.Select(g => $"group:{g}")))),
            ("embargo until", Time(policy.EmbargoUntil)),
            ("no redistribution", policy.NoRedistribution ? "yes" : "no"),
            ("purpose", policy.Purpose),
        ];
    }

    private static void WriteBody(TextWriter writer, FindingContent c)
    {
        if (c.Metrics.Count > 0)
        {
            writer.WriteLine();
            TableWriter.Write(writer, ["METRIC", "SCORER", "VALUE", "STDERR"],
                c.Metrics.Select(m => (IReadOnlyList<string>)[m.Name, m.Scorer, Number(m.Value), m.HasStderr ? Number(m.Stderr) : ""]));
        }
        if (c.Artifacts.Count > 0)
        {
            writer.WriteLine();
            TableWriter.Write(writer, ["ARTIFACT", "MEDIA TYPE", "SIZE", "SHA-256"],
                c.Artifacts.Select(a => (IReadOnlyList<string>)[a.Name, a.MediaType, a.SizeBytes.ToString(CultureInfo.InvariantCulture), a.Sha256]));
        }
        if (c.Narrative.Length > 0)
        {
            writer.WriteLine();
            writer.WriteLine(c.Narrative);
        }
    }

    public static void WriteSummaries(TextWriter writer, IEnumerable<FindingSummary> findings) =>
        TableWriter.Write(writer, ["ID", "V", "ORIGIN", "LABEL", "DOMAIN", "MODEL", "STATE", "SUBMITTED", "TITLE"],
            findings.Select(f => (IReadOnlyList<string>)
            [
                f.Id, f.Version.ToString(CultureInfo.InvariantCulture), f.OriginInstitute, f.Label.Name(), f.RiskDomain.Name(),
                $"{f.Model?.Name}", Enum(f.State.ToString()), Time(f.SubmittedAt), f.Title,
            ]));

    public static void WriteDecisions(TextWriter writer, IEnumerable<DisclosureDecision> decisions) =>
        TableWriter.Write(writer, ["INSTITUTE", "DECISION", "DELIVERY", "RULE", "REASON"],
            decisions.Select(d => (IReadOnlyList<string>)
            [
                d.InstituteId,
                Enum(d.Outcome.ToString()) + (d.ScheduledAt is null ? "" : $" {Time(d.ScheduledAt)}"),
                d.Delivery == DeliveryState.Unspecified ? "" : Enum(d.Delivery.ToString()),
                string.Join(", ", d.Reasons.Select(r => r.Rule).Distinct()),
                string.Join("; ", d.Reasons.Select(r => $"{r.Code}{(r.AgreementId.Length > 0 ? $" [{r.AgreementId}]" : "")}: {r.Detail}")),
            ]));

    public static string Time(Timestamp? t) => t is null ? "" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Number(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    // Generated enum names are PascalCase (AmberStrict); people read AMBER_STRICT.
    private static string Enum(string? name) =>
        string.IsNullOrEmpty(name) ? "" : string.Concat(name.Select((ch, i) => i > 0 && char.IsUpper(ch) ? "_" + ch : char.ToUpperInvariant(ch).ToString()));
}

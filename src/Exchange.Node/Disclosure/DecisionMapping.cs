using System.Text.Json;
using System.Text.Json.Serialization;
using Exchange.Domain.Policy;
using Exchange.Node.Persistence;
using Google.Protobuf.WellKnownTypes;
using DeliveryState = Exchange.V1.DeliveryState;
using DisclosureOutcome = Exchange.V1.DisclosureOutcome;

namespace Exchange.Node.Disclosure;

/// <summary>Policy decisions to rows and to the API, and back.</summary>
internal static class DecisionMapping
{
    public static DecisionRecord ToRecord(this PolicyDecision decision, string findingId, int version, DateTimeOffset now) => new()
    {
        FindingId = findingId,
        FindingVersion = version,
        InstituteId = decision.InstituteId,
        Outcome = (int)decision.Outcome,
        Reasons = JsonSerializer.Serialize(decision.Reasons.ToArray(), ReasonJson.Default.PolicyReasonArray),
        ScheduledAt = decision.ScheduledAt,
        NoRedistribution = decision.NoRedistribution,
        Delivery = (int)decision.InitialDelivery(),
        DecidedAt = now,
        UpdatedAt = now,
    };

    /// <summary>Allowed goes to the outbox, scheduled waits for its embargo, denied is never sent.</summary>
    public static DeliveryState InitialDelivery(this PolicyDecision decision) => decision.Outcome switch
    {
        DisclosureOutcome.Allow => DeliveryState.Pending,
        DisclosureOutcome.Scheduled => DeliveryState.Held,
        _ => DeliveryState.NotSent,
    };

    public static V1.DisclosureDecision ToProto(this PolicyDecision decision, DeliveryState delivery = DeliveryState.Unspecified)
    {
        var proto = new V1.DisclosureDecision
        {
            InstituteId = decision.InstituteId,
            Outcome = decision.Outcome,
            NoRedistribution = decision.NoRedistribution,
            ScheduledAt = decision.ScheduledAt is { } at ? Timestamp.FromDateTimeOffset(at) : null,
            Delivery = delivery,
        };
        proto.Reasons.AddRange(decision.Reasons.Select(ToProto));
        return proto;
    }

    public static V1.DisclosureDecision ToProto(this DecisionRecord record) =>
        new PolicyDecision(
            record.InstituteId,
            (DisclosureOutcome)record.Outcome,
            JsonSerializer.Deserialize(record.Reasons, ReasonJson.Default.PolicyReasonArray) ?? [],
            record.ScheduledAt,
            record.NoRedistribution).ToProto((DeliveryState)record.Delivery);

    public static V1.DisclosureReason ToProto(this PolicyReason reason) => new()
    {
        Code = reason.Code,
        Rule = reason.Rule,
        AgreementId = reason.AgreementId ?? "",
        Detail = reason.Detail,
    };

    public static V1.AuditReason ToAudit(this PolicyReason reason) => new()
    {
        Code = reason.Code,
        Rule = reason.Rule,
        AgreementId = reason.AgreementId ?? "",
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(PolicyReason[]))]
internal sealed partial class ReasonJson : JsonSerializerContext;

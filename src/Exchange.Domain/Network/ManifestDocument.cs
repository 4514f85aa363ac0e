using System.Text.Json.Serialization;

namespace Exchange.Domain.Network;

// The manifest file as written (JSON). Everything is nullable here so that a missing field
// becomes an error naming the entry rather than a serializer exception.
internal sealed class ManifestDocument
{
    public int? FormatVersion { get; set; }
    public string? Name { get; set; }
    public string? CommunityGroup { get; set; }
    public List<InstituteDocument?>? Institutes { get; set; }
    public List<GroupDocument?>? Groups { get; set; }
    public List<AgreementDocument?>? Agreements { get; set; }
}

internal sealed class InstituteDocument
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public string? Jurisdiction { get; set; }
    public string? SigningKey { get; set; }
    public string? EncryptionKey { get; set; }
    public string? TokenIssuer { get; set; }
    public string? BrokerQueue { get; set; }
}

internal sealed class GroupDocument
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public List<string?>? Members { get; set; }
}

internal sealed class AgreementDocument
{
    public string? Id { get; set; }
    public string? Name { get; set; }
    public List<string?>? Parties { get; set; }
    public string? MaxLabel { get; set; }
    public List<string?>? RiskDomains { get; set; }
    public DateTimeOffset? ValidFrom { get; set; }
    public DateTimeOffset? ValidTo { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ManifestDocument))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;

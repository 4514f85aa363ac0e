namespace Exchange.Domain.Findings;

/// <summary>One bad field of a request, named by its protobuf path (e.g. <c>content.metrics[2].value</c>).</summary>
public sealed record FieldViolation(string Field, string Description);

namespace Exchange.Domain;

/// <summary>The OAuth scopes a node grants its staff and tools.</summary>
public static class Scopes
{
    public const string FindingsSubmit = "findings:submit";
    public const string FindingsRead = "findings:read";
    public const string FindingsReadRed = "findings:read:red";
    public const string AuditRead = "audit:read";
    public const string NetworkAdmin = "network:admin";

    public static IReadOnlyList<string> All { get; } = [FindingsSubmit, FindingsRead, FindingsReadRed, AuditRead, NetworkAdmin];
}

namespace Exchange.Node.Audit;

/// <summary>Section <c>Audit</c>.</summary>
public sealed class AuditOptions
{
    public const string Section = "Audit";

    /// <summary>How often recorded events are placed in the tree (they are written at once; this is when they get an index).</summary>
    public TimeSpan IntegrationInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public int IntegrationBatchSize { get; set; } = 5000;

    /// <summary>How often a new checkpoint is signed (when the log grew) and announced to peers for cosigning.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(30);
}

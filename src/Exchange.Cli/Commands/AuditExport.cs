using Exchange.V1;
using Grpc.Core;

namespace Exchange.Cli.Commands;

/// <summary>A node's whole audit log as AuditService.Export streams it: entries, checkpoints, and the log's origin.</summary>
internal static class AuditExport
{
    public static async Task<(List<(long, byte[])> Entries, List<string> Checkpoints, string Origin)> ReadAsync(
        AuditService.AuditServiceClient client, Metadata headers, CancellationToken cancellationToken)
    {
        var entries = new List<(long, byte[])>();
        var checkpoints = new List<string>();
        var origin = "";
        using var call = client.Export(new ExportAuditRequest(), headers, cancellationToken: cancellationToken);
        await foreach (var message in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            entries.AddRange(message.Records.Select(r => ((long)r.Index, r.EntryBytes.ToByteArray())));
            checkpoints.AddRange(message.Checkpoints);
            origin = message.Origin.Length > 0 ? message.Origin : origin;
        }
        return (entries, checkpoints, origin);
    }
}

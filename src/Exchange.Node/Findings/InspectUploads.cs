using System.Security.Cryptography;
using Exchange.Domain.Findings;
using Exchange.Envelopes;
using Exchange.Node.Api;
using Exchange.V1;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Findings;

/// <summary>An uploaded log, spooled to a file that is deleted when this is disposed.</summary>
internal sealed class SpooledUpload(FileStream file, string sha256, long size, SemaphoreSlim slot) : IAsyncDisposable
{
    public FileStream File { get; } = file;
    public string Sha256 { get; } = sha256;
    public long Size { get; } = size;

    public async ValueTask DisposeAsync()
    {
        await File.DisposeAsync();
        slot.Release();
    }
}

/// <summary>
/// Receives Inspect logs streamed by clients. Logs run to hundreds of MB, so they go to disk in
/// the node's data folder, never whole into memory, and only a few at a time: an upload waits for a
/// slot at most <see cref="ImportOptions.SlotWait"/>, then is refused.
/// </summary>
internal sealed class InspectUploads
{
    private readonly string folder;
    private readonly long maxBytes;
    private readonly ImportOptions options;
    private readonly SemaphoreSlim slots;

    public InspectUploads(IOptions<NodeOptions> node, FindingLimits limits, IOptions<ImportOptions> imports)
    {
        folder = Path.Combine(node.Value.DataDirectory, "imports");
        maxBytes = limits.MaxImportBytes;
        options = imports.Value;
        slots = new SemaphoreSlim(options.MaxConcurrent);
    }

    /// <summary>
    /// Makes the uploads folder if it is missing, and deletes the spooled files in it that no live
    /// upload holds: those a node killed mid-upload (SIGKILL, a crash, the power) left behind, which
    /// its deleting on close never reached. A live upload's file, of this process or another sharing
    /// the folder, is locked (FileShare.None, an exclusive flock on Unix) and is left alone. Run at
    /// start, before the node serves. Returns how many it deleted.
    /// </summary>
    /// <exception cref="IOException">The folder cannot be made.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be made.</exception>
    public int Prepare()
    {
        // Uploads are evaluation logs on their way to becoming findings: the owner's alone, from the first byte.
        OwnerOnlyFile.CreateDirectory(folder);
        var deleted = 0;
        foreach (var path in Directory.EnumerateFiles(folder, "*.upload"))
        {
            try
            {
                using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose))
                {
                    deleted++;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Held by a live upload, or already gone.
            }
        }
        return deleted;
    }

    /// <summary>Reads the remaining messages (file chunks) of an upload to a temporary file.</summary>
    public async Task<SpooledUpload> ReceiveAsync(IAsyncStreamReader<ImportInspectLogRequest> requests, CancellationToken cancellationToken)
    {
        if (!await slots.WaitAsync(options.SlotWait, cancellationToken))
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"the node is already reading {options.MaxConcurrent} Inspect logs (Findings:Imports:MaxConcurrent) and none finished within {options.SlotWait.TotalSeconds:0.#} s (Findings:Imports:SlotWait); try again later"));
        }
        FileStream? file = null;
        try
        {
            file = new FileStream(Path.Combine(folder, $"{Guid.NewGuid():N}.upload"),
                OwnerOnlyFile.Options(FileMode.CreateNew, FileAccess.ReadWrite, FileOptions.DeleteOnClose | FileOptions.Asynchronous, bufferSize: 1 << 16));
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            while (await requests.MoveNext(cancellationToken))
            {
                if (requests.Current.PartCase != ImportInspectLogRequest.PartOneofCase.Chunk)
                {
                    GrpcErrors.InvalidArgument("options", "may only be sent once, in the first message; the rest of the upload is chunks of the file");
                }
                var chunk = requests.Current.Chunk.Memory;
                size += chunk.Length;
                if (size > maxBytes)
                {
                    GrpcErrors.InvalidArgument("chunk", $"the file is larger than this node's limit of {maxBytes} bytes (Findings:Limits:MaxImportBytes)");
                }
                hash.AppendData(chunk.Span);
                await file.WriteAsync(chunk, cancellationToken);
            }
            await file.FlushAsync(cancellationToken);
            file.Position = 0;
            return new SpooledUpload(file, Convert.ToHexStringLower(hash.GetHashAndReset()), size, slots);
        }
        catch
        {
            if (file is not null)
            {
                await file.DisposeAsync();
            }
            slots.Release();
            throw;
        }
    }
}

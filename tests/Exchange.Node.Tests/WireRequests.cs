using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace Exchange.Node.Tests;

/// <summary>
/// Raw protobuf bytes sent to any method of the node's API, built from the generated descriptors, so
/// that a test generated over the API covers every method and field there is, and the next one added.
/// </summary>
internal static class WireRequests
{
    public static IReadOnlyList<MethodDescriptor> Methods { get; } = typeof(V1.FindingService).Assembly.GetTypes()
        .Select(t => t.GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetValue(null))
        .OfType<ServiceDescriptor>()
        .SelectMany(s => s.Methods)
        .ToList();

    /// <summary>Every string field of a message and the messages under it (the first item of repeated ones), as the path a BadRequest names.</summary>
    public static IEnumerable<(string Path, FieldDescriptor[] Fields)> StringFields(MessageDescriptor message, int depth = 0)
    {
        foreach (var field in message.Fields.InFieldNumberOrder())
        {
            var name = field.IsRepeated ? $"{field.Name}[0]" : field.Name;
            if (field.FieldType == FieldType.String)
            {
                yield return (name, [field]);
            }
            else if (field.FieldType == FieldType.Message && depth < 3 && !field.MessageType.FullName.StartsWith("google.protobuf.", StringComparison.Ordinal))
            {
                foreach (var (path, fields) in StringFields(field.MessageType, depth + 1))
                {
                    yield return ($"{name}.{path}", [field, .. fields]);
                }
            }
        }
    }

    /// <summary>A message with only the field at the end of <paramref name="path"/> set, to <paramref name="value"/> as raw bytes.</summary>
    public static byte[] WithField(IReadOnlyList<FieldDescriptor> path, byte[] value)
    {
        var bytes = value;
        for (var i = path.Count - 1; i >= 0; i--)
        {
            bytes = LengthDelimited(path[i].FieldNumber, bytes);
        }
        return bytes;
    }

    /// <summary>A field no message has, carrying <paramref name="size"/> bytes in all: protobuf parsers keep or skip it.</summary>
    public static byte[] OfSize(int size) => LengthDelimited(1000, new byte[size - 8]);

    public static byte[] LengthDelimited(int number, byte[] payload)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer))
        {
            output.WriteTag(number, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(payload));
        }
        return buffer.ToArray();
    }

    /// <summary>Calls <paramref name="method"/> with one message of raw bytes, whatever its kind, and returns how it ended.</summary>
    public static async Task<RpcException?> CallAsync(CallInvoker invoker, MethodDescriptor method, byte[] message, CallOptions options)
    {
        var kind = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (true, true) => MethodType.DuplexStreaming,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.Unary,
        };
        var raw = new Method<byte[], byte[]>(kind, method.Service.FullName, method.Name, Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        try
        {
            switch (kind)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(raw, null, options, message);
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(raw, null, options, message))
                    {
                        // The first answer, or the status that ends the call, is all that matters here.
                        await call.ResponseStream.MoveNext(options.CancellationToken);
                    }
                    break;
                default:
                    using (var call = invoker.AsyncClientStreamingCall(raw, null, options))
                    {
                        try
                        {
                            await call.RequestStream.WriteAsync(message);
                            await call.RequestStream.CompleteAsync();
                        }
                        catch (Exception e) when (e is RpcException or InvalidOperationException)
                        {
                            // The node ended the call early; ResponseAsync carries its status.
                        }
                        await call.ResponseAsync;
                    }
                    break;
            }
            return null;
        }
        catch (RpcException e)
        {
            return e;
        }
    }
}

using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Exchange.Inspect.Tests;

/// <summary>Every string field of a protobuf message, nested and repeated ones included, with its path.</summary>
internal static class ProtoStrings
{
    public static IEnumerable<(string Path, string Value)> All(IMessage message, string prefix = "")
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            var path = prefix.Length == 0 ? field.Name : $"{prefix}.{field.Name}";
            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                var i = 0;
                foreach (var item in (System.Collections.IEnumerable)value)
                {
                    foreach (var found in One(field, item, $"{path}[{i++}]"))
                    {
                        yield return found;
                    }
                }
            }
            else
            {
                foreach (var found in One(field, value, path))
                {
                    yield return found;
                }
            }
        }
    }

    private static IEnumerable<(string, string)> One(FieldDescriptor field, object? value, string path) => (field.FieldType, value) switch
    {
        (FieldType.String, string text) => [(path, text)],
        (FieldType.Message, IMessage nested) => All(nested, path),
        _ => [],
    };
}

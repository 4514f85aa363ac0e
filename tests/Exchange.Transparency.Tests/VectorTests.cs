using System.Text.Json;
using Exchange.Transparency;

namespace Exchange.Transparency.Tests;

/// <summary>Every case of transparency-dev/merkle's vectors: wantErr cases must be rejected, the others accepted.</summary>
public sealed class VectorTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "vectors", "merkle", "testdata");

    public static TheoryData<string> InclusionCases() => Cases("inclusion");

    public static TheoryData<string> ConsistencyCases() => Cases("consistency");

    private static TheoryData<string> Cases(string kind)
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, kind), "*.json", SearchOption.AllDirectories).Order())
        {
            data.Add(Path.GetRelativePath(Root, file));
        }
        return data;
    }

    [Fact]
    public void The_vector_folder_is_complete()
    {
        Assert.True(InclusionCases().Count > 50);
        Assert.True(ConsistencyCases().Count > 50);
    }

    [Theory]
    [MemberData(nameof(InclusionCases))]
    public void Inclusion_vectors(string file)
    {
        var v = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file))).RootElement;
        var ok = ProofVerifier.VerifyInclusion(Number(v, "leafIdx"), Number(v, "treeSize"),
            Bytes(v, "leafHash"), Proof(v), Bytes(v, "root"), out var problem);
        Assert.True(ok != v.GetProperty("wantErr").GetBoolean(), $"{v.GetProperty("desc").GetString()}: verified={ok} ({problem})");
    }

    [Theory]
    [MemberData(nameof(ConsistencyCases))]
    public void Consistency_vectors(string file)
    {
        var v = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, file))).RootElement;
        var ok = ProofVerifier.VerifyConsistency(Number(v, "size1"), Number(v, "size2"),
            Bytes(v, "root1"), Bytes(v, "root2"), Proof(v), out var problem);
        Assert.True(ok != v.GetProperty("wantErr").GetBoolean(), $"{v.GetProperty("desc").GetString()}: verified={ok} ({problem})");
    }

    // The vectors use unsigned 64-bit numbers; one beyond long.MaxValue (such as 2^64-1) is out of range for any tree.
    private static long Number(JsonElement v, string name)
    {
        var value = v.GetProperty(name).GetUInt64();
        return value > long.MaxValue ? -1 : (long)value;
    }

    private static byte[] Bytes(JsonElement v, string name) =>
        v.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Convert.FromBase64String(value.GetString()!) : [];

    private static byte[][] Proof(JsonElement v) =>
        v.TryGetProperty("proof", out var proof) && proof.ValueKind == JsonValueKind.Array
            ? proof.EnumerateArray().Select(p => p.ValueKind == JsonValueKind.String ? Convert.FromBase64String(p.GetString()!) : []).ToArray()
            : [];
}

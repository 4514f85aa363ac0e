namespace Exchange.Domain.Network;

/// <summary>A manifest that cannot be used; <see cref="Errors"/> names every bad entry.</summary>
public sealed class ManifestException(IReadOnlyList<string> errors)
    : Exception("The network manifest is invalid:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

using System.Reflection;
using System.Text.RegularExpressions;
using Exchange.Domain.Network;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Startup;

/// <summary>
/// Turns what the framework throws when a node cannot start for its operator's reasons into a
/// <see cref="StartRefusedException"/>: options validation (<c>ValidateOnStart</c>), a value the
/// configuration binder cannot convert, an invalid manifest, an address already in use. The node's
/// own checks throw <see cref="StartRefusedException"/> directly. Anything else is not a refusal
/// (null): a fault, reported whole.
/// </summary>
public static partial class StartRefusals
{
    public const string SettingsFix =
        "correct the setting in appsettings.json, in an environment variable (Section__Name) or on the command line (--Section:Name=value), and start the node again";

    public static StartRefusedException? Explain(Exception e) => e switch
    {
        StartRefusedException refused => refused,
        AggregateException aggregate => aggregate.InnerExceptions.Select(Explain).FirstOrDefault(r => r is not null),
        TargetInvocationException { InnerException: { } inner } => Explain(inner),
        ManifestException manifest => Manifest(null, manifest),
        OptionsValidationException options => new StartRefusedException(options.Failures.Count() == 1 ? "invalid setting" : "invalid settings", options.Failures.ToList(), SettingsFix, options),
        InvalidOperationException when UnconvertibleValue().Match(e.Message) is { Success: true } match =>
            new StartRefusedException(match.Groups["key"].Value, $"the value cannot be read as {Expected(match.Groups["type"].Value)}", SettingsFix, e),
        IOException { InnerException: AddressInUseException } =>
            new StartRefusedException("urls / Kestrel:Endpoints", e.Message,
                "listen on a free port (--urls, or Kestrel:Endpoints:<name>:Url) or stop the process that holds this one", e),
        _ when ThrownBy(e, KestrelCertificateLoader) =>
            new StartRefusedException("Kestrel certificate (Kestrel:Endpoints:<name>:Certificate:Path, :KeyPath, :Password)", e.Message,
                "point the endpoint's Certificate:Path (and KeyPath for PEM) at a readable certificate, with its Password, and start the node again", e),
        _ => null,
    };

    /// <summary>A manifest that does not load, as a refusal naming every bad entry.</summary>
    /// <param name="path">the manifest file, when known (Node:ManifestPath).</param>
    public static StartRefusedException Manifest(string? path, ManifestException e) =>
        path is not null && !File.Exists(path)
            ? new($"Node:ManifestPath", e.Errors, "point Node:ManifestPath at the network manifest file and start the node again", e)
            : new(path is null ? "the network manifest (Node:ManifestPath)" : $"the network manifest '{path}' (Node:ManifestPath)", e.Errors,
                "correct the entries named in the manifest and start the node again", e);

    private const string KestrelCertificateLoader = "Microsoft.AspNetCore.Server.Kestrel.Core.Internal.Certificates.CertificateConfigLoader";

    // Kestrel loads endpoint certificates inside its start and throws whatever the file system or
    // the certificate loader threw; only where it was thrown says it was the certificate.
    private static bool ThrownBy(Exception e, string typeName) =>
        e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or InvalidOperationException
        && new System.Diagnostics.StackTrace(e, false).GetFrames().Any(f => f.GetMethod()?.DeclaringType?.FullName == typeName);

    private static string Expected(string typeName) => typeName switch
    {
        "System.TimeSpan" => "a duration (hh:mm:ss, e.g. 00:00:30)",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Boolean" => "true or false",
        "System.Uri" => "an absolute URI",
        _ when typeof(StartRefusals).Assembly.GetType(typeName) is { IsEnum: true } type => $"one of {string.Join(", ", Enum.GetNames(type))}",
        _ => typeName,
    };

    // ConfigurationBinder: "Failed to convert configuration value [...] at 'Section:Key' to type 'T'."
    [GeneratedRegex("at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex UnconvertibleValue();
}

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Exchange.V1;

namespace Exchange.Domain.Network;

/// <summary>
/// Reads and validates a network manifest. Every problem is collected and reported together,
/// each naming the entry, so an operator fixes the file in one pass. Validity depends on the file
/// alone, never on the date: an agreement that has ended (or not yet begun) is a fact the policy
/// decides by (<c>deny.agreement-ended</c>), not an error, so a manifest that loaded yesterday
/// loads today.
/// </summary>
public static partial class ManifestLoader
{
    public const int FormatVersion = 1;

    /// <summary>Reads and validates the manifest at <paramref name="path"/>.</summary>
    /// <exception cref="ManifestException">the file cannot be read or the manifest is invalid; every bad entry is named.</exception>
    public static NetworkManifest LoadFile(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ManifestException([$"cannot read the manifest file '{path}': {e.Message}"]);
        }
        return Load(bytes);
    }

    /// <summary>Validates a manifest given as UTF-8 JSON.</summary>
    /// <exception cref="ManifestException">the manifest is invalid; every bad entry is named.</exception>
    public static NetworkManifest Load(ReadOnlySpan<byte> json)
    {
        ManifestDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ManifestJsonContext.Default.ManifestDocument);
        }
        catch (JsonException e)
        {
            var where = e.Path is null ? "" : $" at {e.Path}";
            var line = e.LineNumber is null ? "" : $" (line {e.LineNumber + 1})";
            throw new ManifestException([$"the manifest is not valid JSON{where}{line}: {FirstSentence(e.Message)}"]);
        }
        if (document is null)
        {
            throw new ManifestException(["the manifest is empty"]);
        }
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(json));
        return new Validator().Validate(document, sha256);
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    internal static partial Regex IdPattern();

    private sealed class Validator
    {
        private readonly List<string> _errors = [];

        public NetworkManifest Validate(ManifestDocument document, string sha256)
        {
            if (document.FormatVersion != FormatVersion)
            {
                _errors.Add($"formatVersion: must be {FormatVersion}, found {document.FormatVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}");
            }
            var institutes = ValidateInstitutes(document.Institutes);
            var instituteIds = institutes.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            var groups = ValidateGroups(document.Groups, instituteIds);
            var community = document.CommunityGroup ?? "network";
            if (!groups.Any(g => g.Id == community))
            {
                _errors.Add($"communityGroup: group '{community}' is not defined in groups");
            }
            var agreements = ValidateAgreements(document.Agreements, instituteIds);
            if (_errors.Count > 0)
            {
                throw new ManifestException(_errors);
            }
            return new NetworkManifest(document.Name ?? "", community, institutes, groups, agreements, sha256);
        }

        private List<InstituteEntry> ValidateInstitutes(List<InstituteDocument?>? documents)
        {
            var result = new List<InstituteEntry>();
            if (documents is null || documents.Count == 0)
            {
                _errors.Add("institutes: at least one institute is required");
                return result;
            }
            var queues = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < documents.Count; i++)
            {
                var d = documents[i];
                var at = $"institutes[{i}]";
                if (d is null)
                {
                    _errors.Add($"{at}: is null");
                    continue;
                }
                var before = _errors.Count;
                var id = RequireId(d.Id, at);
                at = id is null ? at : $"institute '{id}'";
                if (id is not null && result.Any(r => r.Id == id))
                {
                    _errors.Add($"{at}: the id is used by another institute");
                }
                Require(d.Name, at, "name");
                var signing = ParseKey(d.SigningKey, at, "signingKey", KeyUse.Signing);
                var encryption = ParseKey(d.EncryptionKey, at, "encryptionKey", KeyUse.Encryption);
                if (!Uri.TryCreate(d.TokenIssuer, UriKind.Absolute, out _))
                {
                    _errors.Add($"{at}: tokenIssuer must be an absolute URI, found '{d.TokenIssuer}'");
                }
                if (Require(d.BrokerQueue, at, "brokerQueue"))
                {
                    if (BrokerTopology.QueueNameProblem(d.BrokerQueue!) is { } problem)
                    {
                        // A queue named like another's derived name would be given rights over that
                        // institute's exchange or error queue.
                        _errors.Add($"{at}: brokerQueue '{d.BrokerQueue}' {problem}");
                    }
                    else if (!queues.Add(d.BrokerQueue!))
                    {
                        _errors.Add($"{at}: brokerQueue '{d.BrokerQueue}' is used by another institute");
                    }
                }
                if (_errors.Count == before)
                {
                    result.Add(new InstituteEntry(id!, d.Name!, d.Jurisdiction ?? "", signing!, encryption!, d.TokenIssuer!, d.BrokerQueue!));
                }
            }
            return result;
        }

        private List<GroupEntry> ValidateGroups(List<GroupDocument?>? documents, HashSet<string> institutes)
        {
            var result = new List<GroupEntry>();
            for (var i = 0; i < (documents?.Count ?? 0); i++)
            {
                var d = documents![i];
                var at = $"groups[{i}]";
                if (d is null)
                {
                    _errors.Add($"{at}: is null");
                    continue;
                }
                var before = _errors.Count;
                var id = RequireId(d.Id, at);
                at = id is null ? at : $"group '{id}'";
                if (id is not null && result.Any(r => r.Id == id))
                {
                    _errors.Add($"{at}: the id is used by another group");
                }
                var members = d.Members ?? [];
                if (members.Count == 0)
                {
                    _errors.Add($"{at}: has no members");
                }
                foreach (var member in members)
                {
                    if (member is null || !institutes.Contains(member))
                    {
                        _errors.Add($"{at}: member '{member}' is not an institute of this manifest");
                    }
                }
                foreach (var duplicate in members.GroupBy(m => m).Where(g => g.Count() > 1))
                {
                    _errors.Add($"{at}: member '{duplicate.Key}' is listed more than once");
                }
                if (_errors.Count == before)
                {
                    result.Add(new GroupEntry(id!, d.Name ?? id!, members.Select(m => m!).ToArray()));
                }
            }
            return result;
        }

        private List<AgreementEntry> ValidateAgreements(List<AgreementDocument?>? documents, HashSet<string> institutes)
        {
            var result = new List<AgreementEntry>();
            for (var i = 0; i < (documents?.Count ?? 0); i++)
            {
                var d = documents![i];
                var at = $"agreements[{i}]";
                if (d is null)
                {
                    _errors.Add($"{at}: is null");
                    continue;
                }
                var before = _errors.Count;
                var id = RequireId(d.Id, at);
                at = id is null ? at : $"agreement '{id}'";
                if (id is not null && result.Any(r => r.Id == id))
                {
                    _errors.Add($"{at}: the id is used by another agreement");
                }
                var parties = d.Parties ?? [];
                foreach (var party in parties)
                {
                    if (party is null || !institutes.Contains(party))
                    {
                        _errors.Add($"{at}: party '{party}' is not an institute of this manifest");
                    }
                }
                var distinct = parties.Distinct().Count();
                if (distinct < parties.Count)
                {
                    _errors.Add(distinct == 1
                        ? $"{at}: an institute cannot make an agreement with itself ('{parties[0]}')"
                        : $"{at}: a party is listed more than once");
                }
                else if (parties.Count < 2)
                {
                    _errors.Add($"{at}: needs at least two parties, found {parties.Count}");
                }
                if (!Vocabulary.TryParseLabel(d.MaxLabel, out var maxLabel))
                {
                    _errors.Add($"{at}: maxLabel '{d.MaxLabel}' is not one of {string.Join(", ", Vocabulary.LabelNames)}");
                }
                var domains = new List<RiskDomain>();
                foreach (var name in d.RiskDomains ?? [])
                {
                    if (Vocabulary.TryParseRiskDomain(name, out var domain))
                    {
                        domains.Add(domain);
                    }
                    else
                    {
                        _errors.Add($"{at}: risk domain '{name}' is not one of {string.Join(", ", Vocabulary.RiskDomainNames)}");
                    }
                }
                if (d.ValidFrom is null || d.ValidTo is null)
                {
                    _errors.Add($"{at}: validFrom and validTo are both required");
                }
                else if (d.ValidFrom >= d.ValidTo)
                {
                    _errors.Add($"{at}: validFrom {d.ValidFrom:O} is not before validTo {d.ValidTo:O}");
                }
                if (_errors.Count == before)
                {
                    var entry = new AgreementEntry(id!, d.Name ?? id!, parties.Select(p => p!).ToArray(), maxLabel,
                        domains.Distinct().ToArray(), d.ValidFrom!.Value, d.ValidTo!.Value);
                    foreach (var other in result.Where(o => Overlap(o, entry)))
                    {
                        var pair = entry.Parties.Intersect(other.Parties).Take(2);
                        _errors.Add($"{at}: overlaps agreement '{other.Id}' for {string.Join("–", pair)} " +
                                    "(same parties, overlapping dates and risk domains); " +
                                    "one agreement must decide each pair, domain and day");
                    }
                    result.Add(entry);
                }
            }
            return result;
        }

        private static bool Overlap(AgreementEntry a, AgreementEntry b) =>
            a.Parties.Intersect(b.Parties).Count() >= 2
            && a.ValidFrom < b.ValidTo && b.ValidFrom < a.ValidTo
            && (a.CoversAllDomains || b.CoversAllDomains || a.RiskDomains.Intersect(b.RiskDomains).Any());

        private string? RequireId(string? id, string at)
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                _errors.Add($"{at}: id is required");
                return null;
            }
            if (!IdPattern().IsMatch(id))
            {
                _errors.Add($"{at}: id '{id}' must be lower-case letters, digits and '-', starting with a letter, at most 32 characters");
                return null;
            }
            return id;
        }

        private bool Require(string? value, string at, string field)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                return true;
            }
            _errors.Add($"{at}: {field} is required");
            return false;
        }

        private byte[]? ParseKey(string? base64, string at, string field, KeyUse use)
        {
            if (!Require(base64, at, field))
            {
                return null;
            }
            if (PublicKeys.TryValidate(base64!, use, out var der, out var problem))
            {
                return der;
            }
            _errors.Add($"{at}: {field} {problem}");
            return null;
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Retention;

/// <summary>One file of an archive: what it holds and its SHA-256.</summary>
public sealed record ArchiveFile(string Name, string Format, string Sha256, long Bytes, long Rows, IReadOnlyList<string> Columns,
    long? FirstSeq, long? LastSeq, string? FirstRowHash, string? LastRowHash);

/// <summary>A policy as a purge applied it: the scope, its period, and the cut-off it gave.</summary>
public sealed record ArchivePolicy(string Scope, int? Days, DateTime? CutoffUtc);

/// <summary>A legal hold that kept entries out of a purge, and how many.</summary>
public sealed record ArchiveHold(long Id, string Reference, string Query, long Held);

/// <summary>
/// What a retention archive holds, signed with the checkpoint key: its files and their SHA-256, the entries' seq range and
/// boundary row hashes, the removed ranges (count and digest, as the chain's anchor records them), the record snapshots,
/// the policies applied and the holds that kept entries back, and who or what ran it and when. `verify-archive` checks a
/// folder against it offline, with the public key.
/// </summary>
public sealed record ArchiveManifest(
    string Version,
    string RunId,
    string Folder,
    string By,
    DateTime CreatedAtUtc,
    long HeadSeq,
    long Entries,
    long? FirstSeq,
    long? LastSeq,
    string? FirstRowHash,
    string? LastRowHash,
    long Ranges,
    string RangesSha256,
    long Snapshots,
    IReadOnlyList<ArchivePolicy> Policies,
    IReadOnlyList<ArchiveHold> Holds,
    long Held,
    IReadOnlyList<ArchiveFile> Files,
    string KeyId,
    string Signature)
{
    public const string CurrentVersion = "cc-archive-v1";
    public const string FileName = "manifest.json";
    public const string EntriesJson = "entries.jsonl";
    public const string EntriesCsv = "entries.csv";
    public const string SnapshotsJson = "snapshots.jsonl";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public byte[] SignedBytes() => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this with { Signature = "" }, Json));

    public ArchiveManifest SignWith(CheckpointKey key)
    {
        var unsigned = this with { KeyId = key.PublicKey.KeyId, Signature = "" };
        return unsigned with { Signature = Convert.ToBase64String(key.Sign(unsigned.SignedBytes())) };
    }

    public bool VerifiesWith(CheckpointPublicKey key) => KeyId == key.KeyId && key.Verifies(SignedBytes(), Signature);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The SHA-256 of the manifest as written: what the chain's anchor records.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())));

    public static bool TryParse(string json, [NotNullWhen(true)] out ArchiveManifest? manifest, [NotNullWhen(false)] out string? reason)
    {
        manifest = null;
        try
        {
            manifest = JsonSerializer.Deserialize<ArchiveManifest>(json, Json);
        }
        catch (JsonException ex)
        {
            reason = $"it is not an archive manifest ({ex.Message})";
            return false;
        }

        if (manifest is null || manifest.Version != CurrentVersion || manifest.Files is null || manifest.Policies is null || manifest.Holds is null)
        {
            reason = $"it is not a {CurrentVersion} manifest";
            manifest = null;
            return false;
        }

        reason = null;
        return true;
    }
}

using System.Diagnostics.CodeAnalysis;
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

    /// <summary>The bytes the signature covers: the manifest as JSON with an empty signature.</summary>
    public byte[] SignedBytes() => SignedJson.Bytes(this with { Signature = "" });

    public ArchiveManifest SignWith(CheckpointKey key)
    {
        var unsigned = this with { KeyId = key.PublicKey.KeyId, Signature = "" };
        return unsigned with { Signature = SignedJson.Sign(unsigned, key) };
    }

    public bool VerifiesWith(CheckpointPublicKey key) => KeyId == key.KeyId && key.Verifies(SignedBytes(), Signature);

    public string ToJson() => SignedJson.Write(this);

    /// <summary>The SHA-256 of the manifest as written (<see cref="ToJson"/>): what the chain records.</summary>
    public string Hash() => SignedJson.Hash(this);

    public static bool TryParse(string json, [NotNullWhen(true)] out ArchiveManifest? manifest, [NotNullWhen(false)] out string? reason) =>
        SignedJson.TryRead(json, $"a {CurrentVersion} archive manifest", m => m.Version == CurrentVersion && m.Files is not null && m.Policies is not null && m.Holds is not null, out manifest, out reason);
}

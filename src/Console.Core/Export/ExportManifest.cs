using System.Diagnostics.CodeAnalysis;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Export;

/// <summary>
/// What an export file holds, signed with the checkpoint key (the key the database never holds): the search it came
/// from, who made it and when, its rows, their seq range and boundary row hashes, the file's size and SHA-256, and the
/// formula rule applied to it. Written beside the file as <c>&lt;file&gt;.manifest.json</c>; the export's
/// <c>audit.exported</c> entry carries <see cref="Hash"/>. `verify-export` checks a file against it offline, with the
/// public key.
/// </summary>
public sealed record ExportManifest(
    string Version,
    string File,
    string FileFormat,
    string Sha256,
    long Bytes,
    string Scope,
    string Query,
    DateTime? FromUtc,
    DateTime? ToUtc,
    string Zone,
    string Values,
    IReadOnlyList<string> Columns,
    string By,
    DateTime CreatedAtUtc,
    long Rows,
    long? FirstSeq,
    long? LastSeq,
    string? FirstRowHash,
    string? LastRowHash,
    int Sheets,
    string Neutralisation,
    long NeutralisedCells,
    long ShortenedCells,
    string KeyId,
    string Signature)
{
    public const string CurrentVersion = "cc-export-v1";

    /// <summary>The formula rule as the manifest states it, per format.</summary>
    public static string NeutralisationOf(ExportFormat format) => format switch
    {
        ExportFormat.Csv => "csv: a cell that starts with = + - @ tab CR or ' has one ' put before it; to undo, take one leading ' off every cell that starts with one",
        ExportFormat.Xlsx => "xlsx: every text is a string cell and no cell holds a formula; a text over Excel's 32,767 characters is cut and says so (ShortenedCells)",
        _ => "jsonlines: values as stored, unchanged (a file for machines, not for spreadsheets)",
    };

    /// <summary>The bytes the signature covers: the manifest as JSON with an empty signature.</summary>
    public byte[] SignedBytes() => SignedJson.Bytes(this with { Signature = "" });

    public ExportManifest SignWith(CheckpointKey key)
    {
        var unsigned = this with { KeyId = key.PublicKey.KeyId, Signature = "" };
        return unsigned with { Signature = SignedJson.Sign(unsigned, key) };
    }

    public bool VerifiesWith(CheckpointPublicKey key) => KeyId == key.KeyId && key.Verifies(SignedBytes(), Signature);

    public string ToJson() => SignedJson.Write(this);

    /// <summary>The SHA-256 of the manifest as written (<see cref="ToJson"/>): what the chain records.</summary>
    public string Hash() => SignedJson.Hash(this);

    public static bool TryParse(string json, [NotNullWhen(true)] out ExportManifest? manifest, [NotNullWhen(false)] out string? reason) =>
        SignedJson.TryRead(json, $"a {CurrentVersion} export manifest", m => m.Version == CurrentVersion && m.Columns is not null, out manifest, out reason);

    /// <summary>Where the manifest of <paramref name="file"/> is written.</summary>
    public static string PathFor(string file) => file + ".manifest.json";
}

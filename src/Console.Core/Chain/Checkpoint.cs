using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// A signed statement that the chain held <see cref="EntryCount"/> entries up to <see cref="Seq"/>, ending in
/// <see cref="RowHash"/>. Kept outside the database and signed with a key the database never holds, it shows
/// truncation (the chain ends below it) and rewriting (the chain recomputed from some seq no longer ends in its row hash).
/// Each checkpoint signs the signature of the one before it, so removing or reordering checkpoints shows too.
/// </summary>
/// <param name="Seq">The chain head it covers.</param>
/// <param name="RowHash">The row hash at <paramref name="Seq"/>, lower-case hex.</param>
/// <param name="EntryCount">Entries in the chain from its first seq through <paramref name="Seq"/>.</param>
/// <param name="SignedAtUtc">When it was signed, UTC.</param>
/// <param name="PreviousSignature">The signature of the checkpoint before it; null for the first.</param>
/// <param name="KeyId">Which key signed it: see <see cref="CheckpointPublicKey.KeyId"/>.</param>
/// <param name="Signature">ECDSA P-256, SHA-256, IEEE P1363 (r || s), base64, over <see cref="SignedBytes"/>.</param>
public sealed record Checkpoint(
    long Seq,
    string RowHash,
    long EntryCount,
    [property: JsonConverter(typeof(CheckpointTimestampConverter))] DateTime SignedAtUtc,
    string? PreviousSignature,
    string KeyId,
    string Signature)
{
    /// <summary>The first line of the signed text; a change of what is signed gets a new one.</summary>
    public const string FormatVersion = "cc-checkpoint-v1";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>
    /// The bytes the signature covers: UTF-8 of seven lines joined by '\n', with no final newline:
    /// <c>cc-checkpoint-v1</c>, seq, row hash, entry count, signed-at time as <c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>,
    /// previous signature (or <c>-</c> for none), key id. Numbers in invariant decimal.
    /// </summary>
    public byte[] SignedBytes() => Encoding.UTF8.GetBytes(string.Join('\n',
        FormatVersion,
        Seq.ToString(CultureInfo.InvariantCulture),
        RowHash,
        EntryCount.ToString(CultureInfo.InvariantCulture),
        CanonicalJson.FormatTimestamp(SignedAtUtc),
        PreviousSignature ?? "-",
        KeyId));

    /// <summary>
    /// One line of JSON: <c>{"seq":…,"rowHash":…,"entryCount":…,"signedAtUtc":"yyyy-MM-ddTHH:mm:ss.fffffffZ","previousSignature":…,"keyId":…,"signature":…}</c>.
    /// </summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a checkpoint written by <see cref="ToJson"/>; anything else gives the reason it is not one.</summary>
    public static bool TryParse(string json, [NotNullWhen(true)] out Checkpoint? checkpoint, [NotNullWhen(false)] out string? reason)
    {
        try
        {
            checkpoint = JsonSerializer.Deserialize<Checkpoint>(json, Json);
            reason = checkpoint is null ? "null is not a checkpoint" : null;
        }
        catch (JsonException e)
        {
            (checkpoint, reason) = (null, e.Message);
        }

        return checkpoint is not null;
    }
}

/// <summary>Writes the time exactly as it is signed, so that the file shows what the signature covers.</summary>
internal sealed class CheckpointTimestampConverter : JsonConverter<DateTime>
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTime.TryParseExact(reader.GetString(), Format, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw new JsonException($"signedAtUtc is not a UTC time written as {Format}.");

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options) =>
        writer.WriteStringValue(CanonicalJson.FormatTimestamp(value));
}

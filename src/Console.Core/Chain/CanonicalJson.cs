using System.Buffers;
using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// The canonical JSON of an entry: every field but seq and the hashes, keys in ordinal order, no white space,
/// nulls written out. Hand-written rather than System.Text.Json so that a runtime upgrade cannot change the
/// escaping and with it every hash in an existing chain.
/// </summary>
/// <remarks>
/// Written straight to UTF-8, the bytes the payload hash covers, so that verifying a chain allocates nothing per entry.
/// The bytes are those of <c>Encoding.UTF8.GetBytes</c> over the JSON text, including its replacement of a lone
/// surrogate by U+FFFD: each run of non-ASCII characters is encoded whole, so a surrogate pair is never split.
/// </remarks>
public static class CanonicalJson
{
    private const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    /// <summary>Printable ASCII but the quote and the backslash: the characters written as they are, one byte each.</summary>
    private const string UnescapedCharacters = " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~\u007f";

    /// <summary>For finding a string that needs no escaping at all, several characters at a time.</summary>
    private static readonly SearchValues<char> Unescaped = SearchValues.Create(UnescapedCharacters);

    /// <summary>For the characters of a string that does: one lookup per ASCII character.</summary>
    private static readonly bool[] IsUnescaped = [.. Enumerable.Range(0, 128).Select(c => UnescapedCharacters.Contains((char)c))];

    /// <summary>The canonical JSON as text; the payload hash covers its UTF-8 bytes.</summary>
    public static string Of(AuditEntry e)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxUtf8Length(e));
        try
        {
            return Encoding.UTF8.GetString(buffer, 0, WriteUtf8(e, buffer));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// An entry back from its canonical JSON (an export's canonical column): every field the payload hash covers, for
    /// checking that the rest of an exported row says the same. Null, with the reason, for text that is not one.
    /// </summary>
    public static AuditEntry? TryParse(string json, out string? problem)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            string? S(string name) => root.GetProperty(name).ValueKind == System.Text.Json.JsonValueKind.Null ? null : root.GetProperty(name).GetString();
            problem = null;
            return new AuditEntry
            {
                ActorId = S("actorId"), ActorName = S("actorName"), ActorRoles = S("actorRoles"), ChangedColumns = S("changedColumns"),
                CorrelationId = S("correlationId"), EventName = S("eventName"), IpAddress = S("ipAddress"), Metadata = S("metadata"),
                NewValues = S("newValues"),
                OccurredAtUtc = DateTime.ParseExact(S("occurredAtUtc") ?? "", TimestampFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                OldValues = S("oldValues"), Operation = S("operation") ?? "", Origin = S("origin") ?? "", OutOfBand = root.GetProperty("outOfBand").GetBoolean(),
                RecordKey = S("recordKey"), TableName = S("tableName"), Target = S("target"), Tenant = S("tenant"), TransactionId = S("transactionId"),
                UserAgent = S("userAgent"),
            };
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            problem = ex.Message;
            return null;
        }
    }

    /// <summary>UTC, 100 ns precision, whatever DateTimeKind the value came back from the database with.</summary>
    public static string FormatTimestamp(DateTime value) => value.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    /// <summary>An upper bound of the UTF-8 length of the canonical JSON: at most 6 bytes per character (<c>\u001f</c>).</summary>
    internal static int MaxUtf8Length(AuditEntry e) => 512 + 6 * (
        Length(e.ActorId) + Length(e.ActorName) + Length(e.ActorRoles) + Length(e.ChangedColumns) + Length(e.CorrelationId)
        + Length(e.EventName) + Length(e.IpAddress) + Length(e.Metadata) + Length(e.NewValues) + Length(e.OldValues)
        + Length(e.Operation) + Length(e.Origin) + Length(e.RecordKey) + Length(e.TableName) + Length(e.Target)
        + Length(e.Tenant) + Length(e.TransactionId) + Length(e.UserAgent));

    /// <summary>Writes the canonical JSON as UTF-8 into <paramref name="buffer"/> (at least <see cref="MaxUtf8Length"/> bytes) and returns its length.</summary>
    internal static int WriteUtf8(AuditEntry e, Span<byte> buffer)
    {
        var w = 0;
        // Keys below are already in ordinal order; keep them so when adding fields (and bump the version).
        Field(buffer, ref w, "{\"actorId\":"u8, e.ActorId);
        Field(buffer, ref w, ",\"actorName\":"u8, e.ActorName);
        Field(buffer, ref w, ",\"actorRoles\":"u8, e.ActorRoles);
        Field(buffer, ref w, ",\"changedColumns\":"u8, e.ChangedColumns);
        Field(buffer, ref w, ",\"correlationId\":"u8, e.CorrelationId);
        Field(buffer, ref w, ",\"eventName\":"u8, e.EventName);
        Field(buffer, ref w, ",\"ipAddress\":"u8, e.IpAddress);
        Field(buffer, ref w, ",\"metadata\":"u8, e.Metadata);
        Field(buffer, ref w, ",\"newValues\":"u8, e.NewValues);
        Raw(buffer, ref w, ",\"occurredAtUtc\":\""u8);
        // "O" of an Unspecified value is TimestampFormat without the Z, and many times faster than a custom format.
        DateTime.SpecifyKind(e.OccurredAtUtc, DateTimeKind.Unspecified).TryFormat(buffer[w..], out var written, "O", CultureInfo.InvariantCulture);
        w += written;
        Raw(buffer, ref w, "Z\""u8);
        Field(buffer, ref w, ",\"oldValues\":"u8, e.OldValues);
        Field(buffer, ref w, ",\"operation\":"u8, e.Operation);
        Field(buffer, ref w, ",\"origin\":"u8, e.Origin);
        Raw(buffer, ref w, e.OutOfBand ? ",\"outOfBand\":true"u8 : ",\"outOfBand\":false"u8);
        Field(buffer, ref w, ",\"recordKey\":"u8, e.RecordKey);
        Field(buffer, ref w, ",\"tableName\":"u8, e.TableName);
        Field(buffer, ref w, ",\"target\":"u8, e.Target);
        Field(buffer, ref w, ",\"tenant\":"u8, e.Tenant);
        Field(buffer, ref w, ",\"transactionId\":"u8, e.TransactionId);
        Field(buffer, ref w, ",\"userAgent\":"u8, e.UserAgent);
        Raw(buffer, ref w, "}"u8);
        return w;
    }

    private static ReadOnlySpan<byte> HexDigits => "0123456789abcdef"u8;

    private static int Length(string? value) => value?.Length ?? 0;

    private static void Raw(Span<byte> buffer, ref int w, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[w..]);
        w += bytes.Length;
    }

    private static void Field(Span<byte> buffer, ref int w, ReadOnlySpan<byte> prefix, string? value)
    {
        Raw(buffer, ref w, prefix);
        if (value is null)
        {
            Raw(buffer, ref w, "null"u8);
            return;
        }

        buffer[w++] = (byte)'"';
        if (value.AsSpan().IndexOfAnyExcept(Unescaped) < 0)
        {
            Ascii.FromUtf16(value, buffer[w..], out var written);
            w += written;
        }
        else
        {
            // Character by character: JSON values quote every few characters, too often for a vectorised search to pay.
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (c < 0x80 && IsUnescaped[c])
                {
                    buffer[w++] = (byte)c;
                    continue;
                }

                if (c >= 0x80)
                {
                    var end = i + 1;
                    while (end < value.Length && value[end] >= 0x80)
                    {
                        end++;
                    }

                    w += Encoding.UTF8.GetBytes(value.AsSpan(i, end - i), buffer[w..]);
                    i = end - 1;
                    continue;
                }

                switch (c)
                {
                    case '"': Raw(buffer, ref w, "\\\""u8); break;
                    case '\\': Raw(buffer, ref w, "\\\\"u8); break;
                    case '\n': Raw(buffer, ref w, "\\n"u8); break;
                    case '\r': Raw(buffer, ref w, "\\r"u8); break;
                    case '\t': Raw(buffer, ref w, "\\t"u8); break;
                    default: // the other controls
                        Raw(buffer, ref w, "\\u00"u8);
                        buffer[w++] = HexDigits[c >> 4];
                        buffer[w++] = HexDigits[c & 0xf];
                        break;
                }
            }
        }

        buffer[w++] = (byte)'"';
    }
}

using System.Security.Cryptography;
using System.Text;

namespace ComplianceConsole.Core.Auditing;

/// <summary>
/// The stored length of each bounded text field of an entry (the store's columns on SQL Server; SQLite keeps the same
/// limits so that both providers store the same entry). A longer value never fails the write it describes: it is cut
/// to fit, visibly, with the SHA-256 of the whole value, so two long values that differ stay different.
/// </summary>
public static class AuditFieldLimits
{
    public const int Operation = 16;
    public const int EventName = 100;
    public const int TableName = 128;
    public const int RecordKey = 400;
    public const int ActorId = 200;
    public const int ActorName = 256;
    public const int ActorRoles = 400;
    public const int Origin = 400;
    public const int CorrelationId = 64;
    public const int TransactionId = 64;
    public const int IpAddress = 64;
    public const int UserAgent = 512;
    public const int Tenant = 100;
    public const int Target = 400;

    /// <summary>What a cut value ends with: <c>…[sha256:</c>, twelve hex digits, <c>]</c>.</summary>
    public const string CutMarker = "…[sha256:";

    private const int SuffixLength = 1 + 8 + 12 + 1;

    /// <summary>
    /// <paramref name="value"/> when it fits in <paramref name="max"/> characters; else its start, then
    /// <c>…[sha256:xxxxxxxxxxxx]</c> (the first twelve hex digits of the SHA-256 of the whole value's UTF-16LE bytes,
    /// the same bytes SQL Server's <c>HASHBYTES</c> reads from an nvarchar, so a cut made inside a trigger matches).
    /// </summary>
    public static string? Fit(string? value, int max)
    {
        if (value is null || value.Length <= max)
        {
            return value;
        }

        var keep = max - SuffixLength;
        if (char.IsHighSurrogate(value[keep - 1]))
        {
            keep--; // never split a character in two
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.Unicode.GetBytes(value)))[..12];
        return string.Concat(value.AsSpan(0, keep), CutMarker, hash, "]");
    }

    /// <summary>Whether a stored value was cut by <see cref="Fit"/>.</summary>
    public static bool WasCut(string? value) => value is not null && value.EndsWith(']') && value.Contains(CutMarker, StringComparison.Ordinal);
}

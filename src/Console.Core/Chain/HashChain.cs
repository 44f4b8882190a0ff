using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// payload_hash = SHA-256(canonical JSON of the entry);
/// row_hash = SHA-256(version (4 bytes, big-endian) || seq (8 bytes, big-endian) || payload_hash (32 bytes) || prev_row_hash (32 bytes)).
/// The first entry links to <see cref="GenesisHash"/>.
/// </summary>
public static class HashChain
{
    public static readonly string GenesisHash = new('0', 64);

    public static string PayloadHash(AuditEntry entry)
    {
        var json = CanonicalJson.Of(entry);
        var max = Encoding.UTF8.GetMaxByteCount(json.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 4096 ? stackalloc byte[max] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, buffer);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer[..length], hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static string RowHash(int version, long seq, string payloadHash, string previousRowHash)
    {
        Span<byte> input = stackalloc byte[4 + 8 + 32 + 32];
        BinaryPrimitives.WriteInt32BigEndian(input, version);
        BinaryPrimitives.WriteInt64BigEndian(input[4..], seq);
        if (Convert.FromHexString(payloadHash, input.Slice(12, 32), out _, out var w1) != OperationStatus.Done || w1 != 32
            || Convert.FromHexString(previousRowHash, input.Slice(44, 32), out _, out var w2) != OperationStatus.Done || w2 != 32)
        {
            return "";
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>Gives an unsealed entry its sequence number and both hashes.</summary>
    public static AuditEntry Seal(AuditEntry entry, long seq, string previousRowHash)
    {
        var withSeq = entry with { Seq = seq, Version = AuditEntryFormat.CurrentVersion };
        var payload = PayloadHash(withSeq);
        return withSeq with { PayloadHash = payload, RowHash = RowHash(withSeq.Version, seq, payload, previousRowHash) };
    }
}

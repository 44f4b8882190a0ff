using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
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

    /// <summary>
    /// A SHA-256 context per thread, reset after each digest. One-shot SHA256.HashData sets up an OpenSSL context per
    /// call, which contends across threads: on 2 cores it hashed 1.6 times as fast as on one, a reused context 2.0 times.
    /// </summary>
    [ThreadStatic]
    private static IncrementalHash? _sha256;

    public static string PayloadHash(AuditEntry entry)
    {
        Span<byte> hash = stackalloc byte[32];
        PayloadHash(entry, hash);
        return Convert.ToHexStringLower(hash);
    }

    public static string RowHash(int version, long seq, string payloadHash, string previousRowHash)
    {
        Span<byte> payload = stackalloc byte[32];
        Span<byte> previous = stackalloc byte[32];
        if (!TryParseHash(payloadHash, payload) || !TryParseHash(previousRowHash, previous))
        {
            return "";
        }

        Span<byte> hash = stackalloc byte[32];
        RowHash(version, seq, payload, previous, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The payload hash as 32 bytes, from the canonical JSON written into a pooled buffer.</summary>
    internal static void PayloadHash(AuditEntry entry, Span<byte> hash)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(CanonicalJson.MaxUtf8Length(entry));
        try
        {
            Sha256(buffer.AsSpan(0, CanonicalJson.WriteUtf8(entry, buffer)), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The row hash as 32 bytes, from the payload and previous row hashes as bytes.</summary>
    internal static void RowHash(int version, long seq, ReadOnlySpan<byte> payloadHash, ReadOnlySpan<byte> previousRowHash, Span<byte> hash)
    {
        Span<byte> input = stackalloc byte[4 + 8 + 32 + 32];
        BinaryPrimitives.WriteInt32BigEndian(input, version);
        BinaryPrimitives.WriteInt64BigEndian(input[4..], seq);
        payloadHash.CopyTo(input[12..]);
        previousRowHash.CopyTo(input[44..]);
        Sha256(input, hash);
    }

    private static void Sha256(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        var sha256 = _sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha256.AppendData(data);
        sha256.GetHashAndReset(hash);
    }

    /// <summary>Reads a 64-character hex hash (either case) into 32 bytes; false for anything else.</summary>
    internal static bool TryParseHash(string hex, Span<byte> hash) =>
        Convert.FromHexString(hex, hash, out _, out var written) == OperationStatus.Done && written == 32;

    /// <summary>Whether <paramref name="hex"/> is exactly the lower-case hex of <paramref name="hash"/>, without allocating.</summary>
    internal static bool HexEquals(ReadOnlySpan<byte> hash, string hex)
    {
        Span<char> chars = stackalloc char[64];
        return Convert.TryToHexStringLower(hash, chars, out var written) && chars[..written].SequenceEqual(hex);
    }

    /// <summary>Gives an unsealed entry its sequence number and both hashes.</summary>
    public static AuditEntry Seal(AuditEntry entry, long seq, string previousRowHash)
    {
        var withSeq = entry with { Seq = seq, Version = AuditEntryFormat.CurrentVersion };
        var payload = PayloadHash(withSeq);
        return withSeq with { PayloadHash = payload, RowHash = RowHash(withSeq.Version, seq, payload, previousRowHash) };
    }
}

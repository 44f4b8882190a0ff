namespace ComplianceConsole.Core.Chain;

/// <summary>Signs checkpoints of the chain head with the console's key, each linked to the one before it.</summary>
public sealed class CheckpointSigner(CheckpointKey key)
{
    /// <summary>
    /// A checkpoint stating that the chain held <paramref name="entryCount"/> entries up to <paramref name="seq"/>,
    /// ending in <paramref name="rowHash"/>, at <paramref name="now"/>; linked to <paramref name="previous"/>, the last
    /// checkpoint written (null for the first).
    /// </summary>
    public Checkpoint Sign(Checkpoint? previous, long seq, string rowHash, long entryCount, DateTimeOffset now)
    {
        Span<byte> hash = stackalloc byte[32];
        if (!HashChain.TryParseHash(rowHash, hash) || !HashChain.HexEquals(hash, rowHash))
        {
            throw new ArgumentException($"A row hash is 64 lower-case hex digits, not '{rowHash}'.", nameof(rowHash));
        }

        var unsigned = new Checkpoint(seq, rowHash, entryCount, now.UtcDateTime, previous?.Signature, key.PublicKey.KeyId, "");
        return unsigned with { Signature = Convert.ToBase64String(key.Sign(unsigned.SignedBytes())) };
    }
}

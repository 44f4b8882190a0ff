namespace ComplianceConsole.Core.Chain;

/// <summary>
/// Where signed checkpoints are kept, outside the database: append-only, a checkpoint once written is never changed.
/// <see cref="FolderCheckpointSink"/> keeps them in a local file. A WORM bucket (S3 Object Lock, Azure immutable blob
/// storage) fits the same contract: one object per checkpoint, named so that they list in the order written, read
/// back with the object's name as the source.
/// </summary>
public interface ICheckpointSink
{
    /// <summary>Stores the checkpoint durably before the task completes.</summary>
    Task AppendAsync(Checkpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Every stored checkpoint in the order written, each with where it was read from; what cannot be read is listed, not thrown.</summary>
    Task<CheckpointReadResult> ReadAllAsync(CancellationToken cancellationToken = default);
}

/// <summary>Where a checkpoint was read from: a file name (or object name) and a line number, shown as <c>name:line</c>.</summary>
public sealed record CheckpointSource(string Name, int Line)
{
    public override string ToString() => $"{Name}:{Line}";
}

/// <summary>A checkpoint as read back from a sink.</summary>
public sealed record StoredCheckpoint(Checkpoint Checkpoint, CheckpointSource Source);

/// <summary>A line that is not a checkpoint: torn by a crash while it was written, or edited into garbage.</summary>
public sealed record UnreadableCheckpoint(CheckpointSource Source, string Reason);

/// <summary>What a sink holds, in the order written.</summary>
public sealed record CheckpointReadResult(IReadOnlyList<StoredCheckpoint> Checkpoints, IReadOnlyList<UnreadableCheckpoint> Unreadable)
{
    /// <summary>The newest checkpoint that could be read: the one the next checkpoint links to.</summary>
    public Checkpoint? Last => Checkpoints.Count > 0 ? Checkpoints[^1].Checkpoint : null;
}

using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// Keeps checkpoints as JSON lines (<see cref="Checkpoint.ToJson"/>) in <c>&lt;folder&gt;/checkpoints.jsonl</c>, one per
/// line, appended and flushed to disk (fsync) before <see cref="AppendAsync"/> returns. The folder belongs outside the
/// database's reach, and is best copied on to write-once storage.
/// </summary>
public sealed class FolderCheckpointSink(string folder) : ICheckpointSink
{
    public const string FileName = "checkpoints.jsonl";

    private readonly Lock _appending = new();

    /// <summary>The checkpoint file.</summary>
    public string FilePath { get; } = Path.Combine(folder, FileName);

    /// <summary>Appends synchronously: the checkpoint is on disk, and so is the file's directory entry, when this returns.</summary>
    public Task AppendAsync(Checkpoint checkpoint, CancellationToken cancellationToken = default)
    {
        var line = Encoding.UTF8.GetBytes(checkpoint.ToJson() + "\n");
        lock (_appending)
        {
            Directory.CreateDirectory(folder);
            var created = !File.Exists(FilePath);
            using (var stream = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read))
            {
                // A line torn by a crash is left as it is (the verifier lists it); the new checkpoint starts a line of its own.
                if (stream.Length > 0)
                {
                    stream.Seek(-1, SeekOrigin.End);
                    if (stream.ReadByte() != '\n')
                    {
                        stream.WriteByte((byte)'\n');
                    }
                }

                stream.Seek(0, SeekOrigin.End);
                stream.Write(line);
                stream.Flush(flushToDisk: true);
            }

            if (created)
            {
                FlushDirectory(folder);
            }
        }

        return Task.CompletedTask;
    }

    public async Task<CheckpointReadResult> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        var (checkpoints, unreadable) = (new List<StoredCheckpoint>(), new List<UnreadableCheckpoint>());
        if (!File.Exists(FilePath))
        {
            return new CheckpointReadResult(checkpoints, unreadable);
        }

        var number = 0;
        await foreach (var line in File.ReadLinesAsync(FilePath, cancellationToken))
        {
            var source = new CheckpointSource(FileName, ++number);
            if (string.IsNullOrWhiteSpace(line))
            {
                unreadable.Add(new UnreadableCheckpoint(source, "the line is empty"));
            }
            else if (Checkpoint.TryParse(line, out var checkpoint, out var reason))
            {
                checkpoints.Add(new StoredCheckpoint(checkpoint, source));
            }
            else
            {
                unreadable.Add(new UnreadableCheckpoint(source, $"not a checkpoint (torn by a crash, or edited): {reason}"));
            }
        }

        return new CheckpointReadResult(checkpoints, unreadable);
    }

    /// <summary>
    /// Makes a new file's directory entry durable. .NET cannot open a directory (File.OpenHandle refuses), so on Linux
    /// the directory is opened with libc's open(2) and flushed through a SafeFileHandle. Elsewhere this is skipped.
    /// </summary>
    private static void FlushDirectory(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var handle = new SafeFileHandle(open(path, 0 /* O_RDONLY */), ownsHandle: true);
        if (handle.IsInvalid)
        {
            throw new IOException($"Could not open the folder {path} to flush it to disk (errno {Marshal.GetLastPInvokeError()}).");
        }

        RandomAccess.FlushToDisk(handle);
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport would need AllowUnsafeBlocks for the whole project, for this one call.
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
#pragma warning restore SYSLIB1054
}

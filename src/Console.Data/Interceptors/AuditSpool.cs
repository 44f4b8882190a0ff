using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>A captured row as it waits in AuditPending: kept in the spool, and put back (or written) with <see cref="AuditSealer.RestoreRows"/>.</summary>
public sealed record SpooledRow(
    string? TableName, string Operation, string? RecordKey, string? OldValues, string? NewValues, string? ChangedColumns,
    string? EventName, string? Target, string? Metadata, string? Tenant, string? ActorId, string? ActorName, string CapturedAtUtc);

/// <summary>One committed transaction whose entries could not be sealed: its context, its rows and why.</summary>
public sealed record SpoolRecord(string Id, DateTime CommittedAtUtc, AuditContext Context, IReadOnlyList<SpooledRow> Rows, string Error);

/// <summary>One line of the spool file: its 1-based number, its text, and the record it holds or why it holds none.</summary>
public sealed record SpoolLine(int Number, string Text, SpoolRecord? Record, string? Problem);

/// <summary>A spool line moved aside: where it came from, why, when, and its text as it was (nothing is lost).</summary>
public sealed record QuarantinedLine(DateTime QuarantinedAtUtc, string Source, int Line, string Reason, string? RecordId, string Text)
{
    /// <summary>file:line of the spool line it was.</summary>
    public string Where => $"{Source}:{Line}";
}

/// <summary>
/// The never-block spool: one JSON line per transaction, appended and flushed to disk before that transaction
/// commits. Replay removes a record only after its entries are in the chain; a record already in the chain
/// (a crash between the two) is recognised by its id and skipped, so nothing is sealed twice.
/// A line that cannot be read or written is moved to <see cref="QuarantinePath"/>, which is never emptied by the console.
/// </summary>
public sealed class AuditSpool(string path)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly object _lock = new();

    public string Path { get; } = path;

    /// <summary>The sibling file that keeps quarantined lines: <c>&lt;spool&gt;.quarantine.jsonl</c>.</summary>
    public string QuarantinePath => System.IO.Path.ChangeExtension(Path, null) + ".quarantine.jsonl";

    /// <summary>Why the last replay stopped with records still spooled; null after a replay that emptied the spool.</summary>
    public string? ReplayError { get; private set; }

    internal void NoteReplayError(string? error) => ReplayError = error;

    public void Append(SpoolRecord record) => AppendLine(Path, JsonSerializer.Serialize(record, Json));

    /// <summary>Removes the record of a transaction whose commit failed after its entries were spooled.</summary>
    public void Retract(string transactionId) => Remove(ReadLines().Where(l => l.Record?.Id == transactionId).ToList());

    /// <summary>The records that can be read, in file order; unreadable lines are left out (see <see cref="ReadLines"/>).</summary>
    public IReadOnlyList<SpoolRecord> ReadAll() => ReadLines().Where(l => l.Record is not null).Select(l => l.Record!).ToList();

    /// <summary>Every non-empty line, read one by one: a torn or foreign line is reported, never thrown.</summary>
    public IReadOnlyList<SpoolLine> ReadLines()
    {
        lock (_lock)
        {
            return ReadTextLines(Path).Select(l => Parse(l.Number, l.Text)).ToList();
        }
    }

    /// <summary>Every quarantined line, oldest first.</summary>
    public IReadOnlyList<QuarantinedLine> ReadQuarantine()
    {
        lock (_lock)
        {
            return ReadTextLines(QuarantinePath).Select(l =>
            {
                try
                {
                    return JsonSerializer.Deserialize<QuarantinedLine>(l.Text, Json) ?? Unreadable(l.Number, l.Text);
                }
                catch (JsonException)
                {
                    return Unreadable(l.Number, l.Text);
                }
            }).ToList();
        }

        QuarantinedLine Unreadable(int number, string text) =>
            new(DateTime.MinValue, QuarantinePath, number, "this line of the quarantine file cannot be read", null, text);
    }

    /// <summary>What an auditor must know about entries not in the chain. Reads the files only; writes nothing.</summary>
    public AuditSpoolSummary Summarize()
    {
        var lines = ReadLines();
        var records = lines.Where(l => l.Record is not null).Select(l => l.Record!).ToList();
        return new AuditSpoolSummary(
            Path, records.Count, records.Sum(r => r.Rows.Count), lines.Count(l => l.Record is null),
            ReplayError ?? records.LastOrDefault()?.Error, QuarantinePath, ReadQuarantine());
    }

    /// <summary>Copies <paramref name="line"/> to the quarantine, flushed to disk; it leaves the spool at the next <see cref="Remove"/>.</summary>
    public QuarantinedLine Quarantine(SpoolLine line, string reason)
    {
        var entry = new QuarantinedLine(DateTime.UtcNow, Path, line.Number, reason, line.Record?.Id, line.Text);
        lock (_lock)
        {
            // A crash between this copy and Remove leaves the line in both; it is not quarantined twice.
            if (!ReadQuarantine().Any(q => q.Text == line.Text))
            {
                AppendLine(QuarantinePath, JsonSerializer.Serialize(entry, Json));
            }
        }

        return entry;
    }

    /// <summary>Drops replayed and quarantined lines: the rest is written to a new file that replaces the old one in one rename.</summary>
    public void Remove(IEnumerable<SpoolLine> lines)
    {
        var drop = lines.Select(l => l.Text).ToHashSet(StringComparer.Ordinal);
        lock (_lock)
        {
            if (drop.Count == 0 || !File.Exists(Path))
            {
                return;
            }

            // By text, not number: a line appended since it was read is kept, and a record's line holds its unique id.
            var keep = ReadTextLines(Path).Where(l => !drop.Contains(l.Text)).ToList();
            var temp = Path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                var bytes = Encoding.UTF8.GetBytes(string.Concat(keep.Select(l => l.Text + "\n")));
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path, overwrite: true);
            SyncDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        }
    }

    /// <summary>
    /// Appends one line, flushed to disk, always on a line of its own: a torn last line (a crash mid-append) is
    /// closed first. A new file or folder is made durable (folder fsync) before the line is written, so a line
    /// is either durable or never written and the change fails.
    /// </summary>
    private void AppendLine(string file, string text)
    {
        lock (_lock)
        {
            var full = System.IO.Path.GetFullPath(file);
            var dir = System.IO.Path.GetDirectoryName(full)!;
            var created = new List<string>();
            for (var d = dir; !Directory.Exists(d); d = System.IO.Path.GetDirectoryName(d)!)
            {
                created.Add(d);
            }

            Directory.CreateDirectory(dir);
            foreach (var d in created)
            {
                SyncDirectory(System.IO.Path.GetDirectoryName(d)!);
            }

            if (!File.Exists(full))
            {
                using (new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
                {
                }

                SyncDirectory(dir);
            }

            using var stream = new FileStream(full, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            var torn = false;
            if (stream.Length > 0)
            {
                stream.Seek(-1, SeekOrigin.End);
                torn = stream.ReadByte() != '\n';
            }

            stream.Seek(0, SeekOrigin.End);
            stream.Write(Encoding.UTF8.GetBytes((torn ? "\n" : "") + text + "\n"));
            stream.Flush(flushToDisk: true);
        }
    }

    private SpoolLine Parse(int number, string text)
    {
        try
        {
            var record = JsonSerializer.Deserialize<SpoolRecord>(text, Json);
            return record is { Id.Length: > 0, Context: not null, Rows: not null }
                ? new SpoolLine(number, text, record, null)
                : new SpoolLine(number, text, null, "not a spool record (no id, context or rows)");
        }
        catch (JsonException ex)
        {
            return new SpoolLine(number, text, null, $"unreadable JSON, probably cut off by a crash while it was written (at character {ex.BytePositionInLine ?? 0})");
        }
    }

    private static IEnumerable<(int Number, string Text)> ReadTextLines(string file)
    {
        if (!File.Exists(file))
        {
            return [];
        }

        string content;
        using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            content = reader.ReadToEnd();
        }

        return content.Split('\n')
            .Select((text, i) => (Number: i + 1, Text: text.TrimEnd('\r')))
            .Where(l => l.Text.Length > 0)
            .ToList();
    }

    /// <summary>Makes a file's creation or rename in <paramref name="dir"/> durable (Linux: fsync of the folder). Elsewhere a no-op.</summary>
    private static void SyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Native.open(dir, 0); // O_RDONLY
        if (fd < 0)
        {
            throw new IOException($"Cannot open the folder {dir} to flush it to disk (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Native.fsync(fd) != 0)
            {
                throw new IOException($"Cannot flush the folder {dir} to disk (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}

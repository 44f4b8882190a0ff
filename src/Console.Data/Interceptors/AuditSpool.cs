using System.Text.Json;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>A captured row as it waits in AuditPending: kept in the spool, and put back (or written) with <see cref="AuditSealer.RestoreRows"/>.</summary>
public sealed record SpooledRow(
    string? TableName, string Operation, string? RecordKey, string? OldValues, string? NewValues, string? ChangedColumns,
    string? EventName, string? Target, string? Metadata, string? Tenant, string? ActorId, string? ActorName, string CapturedAtUtc);

/// <summary>One committed transaction whose entries could not be sealed: its context, its rows and why.</summary>
public sealed record SpoolRecord(string Id, DateTime CommittedAtUtc, AuditContext Context, IReadOnlyList<SpooledRow> Rows, string Error);

/// <summary>
/// The never-block spool: one JSON line per transaction, appended and flushed to disk before that transaction
/// commits. Replay removes a record only after its entries are in the chain; a record already in the chain
/// (a crash between the two) is recognised by its id and skipped, so nothing is sealed twice.
/// </summary>
public sealed class AuditSpool(string path)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly object _lock = new();

    public string Path { get; } = path;

    public void Append(SpoolRecord record)
    {
        var line = JsonSerializer.Serialize(record, Json) + "\n";
        lock (_lock)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
            using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(line);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }
        }
    }

    public IReadOnlyList<SpoolRecord> ReadAll()
    {
        lock (_lock)
        {
            if (!File.Exists(Path))
            {
                return [];
            }

            return File.ReadAllLines(Path).Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<SpoolRecord>(l, Json)!).ToList();
        }
    }

    /// <summary>Drops replayed records: the rest is written to a new file that replaces the old one in one rename.</summary>
    public void Remove(IReadOnlySet<string> ids)
    {
        lock (_lock)
        {
            var keep = ReadAll().Where(r => !ids.Contains(r.Id)).Select(r => JsonSerializer.Serialize(r, Json)).ToList();
            var temp = Path + ".tmp";
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            using (var writer = new StreamWriter(stream))
            {
                foreach (var line in keep)
                {
                    writer.Write(line + "\n");
                }

                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path, overwrite: true);
        }
    }
}

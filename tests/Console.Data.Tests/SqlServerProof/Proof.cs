using System.Data;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// The console's SQL Server context on a <see cref="RecordingConnection"/>, with the real provider and the real audit
/// interceptor, answering EF's statements as SQL Server would and the seal with the pending rows the test says the
/// capture triggers wrote in this transaction.
/// </summary>
internal sealed class Proof
{
    public static readonly DateTime ServerNow = new(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);

    private readonly Func<Recorded, Answer?>? _answer;
    private int _nextId = 41;
    private long _nextPendingId = 1;

    // The pending rows of the open transaction, as the capture triggers wrote them; a savepoint keeps a copy.
    private List<PendingRow> _pending = [];
    private List<PendingRow> _atSavepoint = [];

    public Proof(Func<Recorded, Answer?>? answer = null)
    {
        _answer = answer;
        Connection = new RecordingConnection(Respond) { OnVerb = OnVerb };
    }

    public RecordingConnection Connection { get; }

    /// <summary>What the capture triggers (or an event's own INSERT) write for a statement: its pending rows.</summary>
    public Func<Recorded, IEnumerable<PendingRow>> Trigger { get; set; } = _ => [];

    /// <summary>The chain head the seal reads.</summary>
    public (long Seq, string RowHash)? Head { get; set; } = (7, new string('a', 64));

    /// <summary>The @rows JSON of each INSERT into AuditEntries, parsed: what was appended to the chain.</summary>
    public List<System.Text.Json.JsonElement> Appended { get; } = [];

    public ConsoleDbContext Context(AuditSpool? spool = null, Action<SqlServerDbContextOptionsBuilder>? sqlServer = null, AuditContext? actor = null)
    {
        var builder = new DbContextOptionsBuilder<SqlServerConsoleDbContext>().UseSqlServer(Connection, o => sqlServer?.Invoke(o));
        builder.UseAuditTrail(new AuditContextAccessor(actor ?? TestDatabase.Alice), neverBlockSpool: spool);
        return new SqlServerConsoleDbContext(builder.Options);
    }

    /// <summary>A model of odd shapes (<see cref="OddShapesContext"/>) on the same recording connection.</summary>
    public OddShapesContext OddShapes()
    {
        var builder = new DbContextOptionsBuilder<OddShapesContext>().UseSqlServer(Connection);
        builder.UseAuditTrail(new AuditContextAccessor(TestDatabase.Alice));
        return new OddShapesContext(builder.Options);
    }

    public static SqlServerAuditSealer.Statements Sql => SqlServerAuditSealer.For("dbo");

    /// <summary>Each statement cut to a short name, with the transaction verbs: the sequence a test asserts.</summary>
    public IReadOnlyList<string> Outline() => Connection.Log.Select(r => Describe(r.Text) + (r.Isolation is { } i ? " " + i : "")).ToList();

    public static string Describe(string text)
    {
        if (text == Sql.Own)
        {
            return "SEAL OWN";
        }

        if (text == Sql.Insert)
        {
            return "INSERT ENTRIES";
        }

        if (text == Sql.TakeOwn)
        {
            return "TAKE OWN";
        }

        var body = text.Replace("SET IMPLICIT_TRANSACTIONS OFF;", "").Replace("SET NOCOUNT ON;", "").Trim();
        var line = body.Split('\n')[0].Trim();
        var cut = line.IndexOf(" (", StringComparison.Ordinal);
        return cut > 0 ? line[..cut] : line.Length > 40 ? line[..40] : line;
    }

    private void OnVerb(string verb)
    {
        switch (verb)
        {
            case "#COMMIT" or "#ROLLBACK" or "#BEGIN":
                _pending = [];
                _atSavepoint = [];
                break;
            case var v when v.StartsWith("#SAVE ", StringComparison.Ordinal):
                _atSavepoint = _pending.ToList();
                break;
            case var v when v.StartsWith("#ROLLBACK TO ", StringComparison.Ordinal):
                _pending = _atSavepoint.ToList();
                break;
        }
    }

    private Answer? Respond(Recorded r)
    {
        if (_answer?.Invoke(r) is { } scripted)
        {
            return scripted;
        }

        if (r.Text == Sql.Own || r.Text == Sql.TakeOwn)
        {
            var rows = _pending;
            _pending = [];
            if (r.Text == Sql.TakeOwn)
            {
                return Answer.Rows(PendingRow.ToTable(rows));
            }

            if (rows.Count == 0)
            {
                return Answer.Rows(); // the batch RETURNs before the lock: no result sets
            }

            var head = new DataTable();
            head.Columns.Add("Seq", typeof(long));
            head.Columns.Add("RowHash", typeof(string));
            if (Head is { } h)
            {
                head.Rows.Add(h.Seq, h.RowHash);
            }

            return Answer.Rows(Answer.Column("now", ServerNow), head, PendingRow.ToTable(rows));
        }

        if (r.Text == Sql.Insert)
        {
            var rows = System.Text.Json.JsonDocument.Parse((string)r.Parameter("@rows").Value).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
            Appended.AddRange(rows);
            return new Answer(rows.Count);
        }

        foreach (var row in Trigger(r))
        {
            _pending.Add(row with { Id = _nextPendingId++ });
        }

        if (r.Text.Contains("scope_identity()", StringComparison.Ordinal))
        {
            return Answer.Rows(Answer.Column("Id", _nextId++));
        }

        if (r.Text.Contains("@@ROWCOUNT", StringComparison.Ordinal))
        {
            var count = r.Text.Split("@@ROWCOUNT").Length - 1;
            return Answer.Rows(Enumerable.Range(0, count).Select(_ => Answer.Column("", 1)).ToArray());
        }

        return null;
    }
}

/// <summary>A row the capture trigger wrote to AuditPending, as the seal's DELETE ... OUTPUT returns it.</summary>
public sealed record PendingRow(long Id, string? TableName, string Operation, string? Key, string? Old, string? New, string? Changed = null, string? EventName = null, string? Target = null, string? ActorName = null, string? Metadata = null)
{
    public static DataTable ToTable(IEnumerable<PendingRow> rows)
    {
        var t = new DataTable();
        foreach (var (name, type) in new (string, Type)[]
        {
            ("Id", typeof(long)), ("TableName", typeof(string)), ("Operation", typeof(string)), ("RecordKey", typeof(string)), ("OldValues", typeof(string)),
            ("NewValues", typeof(string)), ("ChangedColumns", typeof(string)), ("EventName", typeof(string)), ("Target", typeof(string)), ("Metadata", typeof(string)),
            ("Tenant", typeof(string)), ("ActorId", typeof(string)), ("ActorName", typeof(string)), ("CapturedAtUtc", typeof(DateTime)), ("TxId", typeof(long)),
        })
        {
            t.Columns.Add(name, type);
        }

        foreach (var r in rows)
        {
            t.Rows.Add(r.Id, (object?)r.TableName ?? DBNull.Value, r.Operation, (object?)r.Key ?? DBNull.Value, (object?)r.Old ?? DBNull.Value, (object?)r.New ?? DBNull.Value,
                (object?)r.Changed ?? DBNull.Value, (object?)r.EventName ?? DBNull.Value, (object?)r.Target ?? DBNull.Value, (object?)r.Metadata ?? DBNull.Value, DBNull.Value, DBNull.Value,
                (object?)r.ActorName ?? DBNull.Value, Proof.ServerNow.AddSeconds(-1), 900L);
        }

        return t;
    }
}

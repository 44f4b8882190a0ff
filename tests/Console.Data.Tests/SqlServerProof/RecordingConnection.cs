using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Data.SqlClient;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>One thing the database was asked: a statement with its parameters, or a transaction verb (BEGIN, COMMIT, SAVE ...).</summary>
public sealed record Recorded(string Text, IReadOnlyList<SqlParameter> Parameters, IsolationLevel? Isolation = null, int CommandTimeout = 0)
{
    public bool IsStatement => Parameters is not null && !Text.StartsWith('#');

    public SqlParameter Parameter(string name) => Parameters.Single(p => p.ParameterName == name);

    public override string ToString() => Text;
}

/// <summary>What the recording database answers a statement with: rows affected, result sets, or an error.</summary>
public sealed record Answer(int RowsAffected = 1, DataTable[]? Results = null, Exception? Error = null)
{
    public static Answer Rows(params DataTable[] results) => new(-1, results);

    public static Answer Fail(Exception error) => new(Error: error);

    /// <summary>A result set of one column.</summary>
    public static DataTable Column<T>(string name, params T[] values)
    {
        var table = new DataTable();
        table.Columns.Add(name, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T));
        foreach (var v in values)
        {
            table.Rows.Add(v is null ? DBNull.Value : v);
        }

        return table;
    }
}

/// <summary>
/// An ADO.NET connection that records every statement and transaction verb instead of sending it, and answers from a
/// script. EF's real SQL Server provider and the capture engine's real interceptor run on it unchanged (parameters are
/// real <see cref="SqlParameter"/>s, so the provider's type mappings apply): so the exact statements the engine sends
/// on SQL Server, in order, can be asserted without a server. The answers are the test's: it is a proof of what is
/// sent, not of what a server does with it; <see cref="SqlServerCaptureTests"/> runs the same engine on a real server.
/// </summary>
public sealed class RecordingConnection(Func<Recorded, Answer?> answer) : DbConnection
{
    private ConnectionState _state = ConnectionState.Closed;

    public List<Recorded> Log { get; } = [];

    /// <summary>The statements and verbs, as text, in order.</summary>
    public IReadOnlyList<string> Texts => Log.Select(r => r.Text).ToList();

    [AllowNull]
    public override string ConnectionString { get; set; } = "Server=recording;Database=proof;TrustServerCertificate=True";

    public override string Database => "proof";

    public override string DataSource => "recording";

    public override string ServerVersion => "16.00.4135";

    public override ConnectionState State => _state;

    public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

    public override void Open() => _state = ConnectionState.Open;

    public override Task OpenAsync(CancellationToken cancellationToken)
    {
        Open();
        return Task.CompletedTask;
    }

    public override void Close() => _state = ConnectionState.Closed;

    /// <summary>What SqlClient does when opened inside a TransactionScope: the connection joins it.</summary>
    public override void EnlistTransaction(System.Transactions.Transaction? transaction) => Verb("#ENLIST");

    internal RecordingTransaction? Current { get; set; }

    protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel)
    {
        if (Current is not null)
        {
            throw new InvalidOperationException("SqlConnection does not support parallel transactions.");
        }

        Log.Add(new Recorded("#BEGIN", [], isolationLevel == IsolationLevel.Unspecified ? IsolationLevel.ReadCommitted : isolationLevel));
        OnVerb?.Invoke("#BEGIN");
        return Current = new RecordingTransaction(this, isolationLevel == IsolationLevel.Unspecified ? IsolationLevel.ReadCommitted : isolationLevel);
    }

    protected override DbCommand CreateDbCommand() => new RecordingCommand(this);

    internal Answer Run(RecordingCommand command)
    {
        if (command.Transaction is not null && command.Transaction != Current)
        {
            throw new InvalidOperationException("The command's transaction is not the connection's open transaction.");
        }

        if (Current is not null && command.Transaction is null)
        {
            // What SqlClient says when a command on a connection with an open transaction has none.
            throw new InvalidOperationException("ExecuteReader requires the command to have a transaction when the connection assigned to the command is in a pending local transaction.");
        }

        var recorded = new Recorded(command.CommandText, command.Parameters.Cast<SqlParameter>().Select(p => (SqlParameter)((ICloneable)p).Clone()).ToList(), CommandTimeout: command.CommandTimeout);
        Log.Add(recorded);
        var result = answer(recorded) ?? new Answer();
        if (result.Error is not null)
        {
            throw result.Error;
        }

        return result;
    }

    /// <summary>Told each transaction verb, as the database would see it.</summary>
    public Action<string>? OnVerb { get; set; }

    internal void Verb(string text)
    {
        Log.Add(new Recorded(text, []));
        OnVerb?.Invoke(text);
    }
}

public sealed class RecordingTransaction(RecordingConnection connection, IsolationLevel isolationLevel) : DbTransaction
{
    public override IsolationLevel IsolationLevel => isolationLevel;

    protected override DbConnection DbConnection => connection;

    public override bool SupportsSavepoints => true;

    public override void Commit()
    {
        connection.Verb("#COMMIT");
        connection.Current = null;
    }

    public override void Rollback()
    {
        if (connection.Current == this)
        {
            connection.Verb("#ROLLBACK");
            connection.Current = null;
        }
    }

    public override void Save(string savepointName) => connection.Verb("#SAVE " + savepointName);

    public override void Rollback(string savepointName) => connection.Verb("#ROLLBACK TO " + savepointName);

    public override void Release(string savepointName) => connection.Verb("#RELEASE " + savepointName);

    protected override void Dispose(bool disposing)
    {
        Rollback();
        base.Dispose(disposing);
    }
}

public sealed class RecordingCommand(RecordingConnection connection) : DbCommand
{
    // SqlParameterCollection has no public constructor; a SqlCommand lends its own.
    private readonly SqlCommand _parameters = new();

    [AllowNull]
    public override string CommandText { get; set; } = "";

    public override int CommandTimeout { get; set; } = 30;

    public override CommandType CommandType { get; set; } = CommandType.Text;

    public override bool DesignTimeVisible { get; set; }

    public override UpdateRowSource UpdatedRowSource { get; set; }

    protected override DbConnection? DbConnection { get => connection; set { } }

    protected override DbParameterCollection DbParameterCollection => _parameters.Parameters;

    protected override DbTransaction? DbTransaction { get; set; }

    public override void Cancel()
    {
    }

    public override void Prepare()
    {
    }

    protected override DbParameter CreateDbParameter() => new SqlParameter();

    public override int ExecuteNonQuery() => connection.Run(this).RowsAffected;

    public override object? ExecuteScalar()
    {
        var result = connection.Run(this);
        return result.Results is [{ Rows.Count: > 0 } first, ..] ? first.Rows[0][0] : null;
    }

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior)
    {
        var result = connection.Run(this);
        return new DataTableReader(result.Results is { Length: > 0 } results ? results : [new DataTable()]);
    }
}

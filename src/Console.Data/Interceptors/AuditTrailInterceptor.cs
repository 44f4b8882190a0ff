using System.Data.Common;
using System.Runtime.CompilerServices;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// The capture path seen from EF. The database triggers capture every row change; this interceptor makes sure
/// that every write the app makes runs in a transaction, notes the pending-row watermark before the first
/// write, and seals the captured rows into the chain just before that transaction commits, with the actor and
/// context of the scope this interceptor was created for (a Blazor circuit, an HTTP request or a job).
///
/// - SaveChanges: starts a transaction if the caller has none (EF would skip it for a single statement).
/// - ExecuteUpdate/ExecuteDelete/ExecuteSql outside a transaction: the command gets a transaction of its own,
///   sealed and committed as soon as it has run.
/// - Any commit of a transaction that wrote: sealed first; if sealing fails, the commit does not happen.
/// </summary>
public sealed class AuditTrailInterceptor(IAuditContextAccessor contextAccessor, AuditSealer sealer, AuditSpool? spool = null)
    : DbCommandInterceptor, IDbTransactionInterceptor, ISaveChangesInterceptor
{
    private readonly ConditionalWeakTable<DbTransaction, TransactionState> _transactions = new();
    private readonly ConditionalWeakTable<DbContext, SaveTransaction> _saveTransactions = new();
    private readonly ConditionalWeakTable<DbCommand, DbTransaction> _commandTransactions = new();

    // ---- SaveChanges: always in a transaction ----

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        BeginSaveTransaction(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        BeginSaveTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        EndSaveTransaction(eventData.Context, commit: true);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        EndSaveTransaction(eventData.Context, commit: true);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => EndSaveTransaction(eventData.Context, commit: false);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        EndSaveTransaction(eventData.Context, commit: false);
        return Task.CompletedTask;
    }

    public void SaveChangesCanceled(DbContextEventData eventData) => EndSaveTransaction(eventData.Context, commit: false);

    public Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        EndSaveTransaction(eventData.Context, commit: false);
        return Task.CompletedTask;
    }

    private void BeginSaveTransaction(DbContext? context)
    {
        if (context is null || System.Transactions.Transaction.Current is not null)
        {
            return;
        }

        if (context.Database.CurrentTransaction is null)
        {
            var transaction = context.Database.BeginTransaction();
            var savepoints = context.Database.AutoSavepointsEnabled;
            context.Database.AutoSavepointsEnabled = false; // the whole transaction is ours: a savepoint would only cost two round trips
            _saveTransactions.AddOrUpdate(context, new SaveTransaction(transaction, savepoints));
        }

        // SQL Server needs no watermark, so a SaveChanges transaction is marked for sealing up front, whatever
        // the text of EF's batches (SQLite reads its watermark before the first write, in BeforeWrite).
        if (!context.Database.IsSqlite() && context.Database.CurrentTransaction?.GetDbTransaction() is { } current)
        {
            _transactions.GetValue(current, _ => new TransactionState(0));
        }
    }

    private void EndSaveTransaction(DbContext? context, bool commit)
    {
        if (context is null || !_saveTransactions.TryGetValue(context, out var owned))
        {
            return;
        }

        _saveTransactions.Remove(context);
        try
        {
            if (commit)
            {
                owned.Transaction.Commit();
            }
            else
            {
                owned.Transaction.Rollback();
            }
        }
        finally
        {
            owned.Transaction.Dispose();
            context.Database.AutoSavepointsEnabled = owned.AutoSavepoints;
        }
    }

    // ---- Commands: note the watermark before the first write; own a transaction when there is none ----

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        BeforeWrite(command);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        BeforeWrite(command);
        return ValueTask.FromResult(result);
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        CompleteOwned(command);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        CompleteOwned(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        BeforeWrite(command);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        BeforeWrite(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        // A write that returns rows (INSERT ... RETURNING through FromSql) outside a transaction: commit once read.
        CompleteOwned(command);
        return result;
    }

    public override ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        CompleteOwned(command);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        BeforeWrite(command);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        BeforeWrite(command);
        return ValueTask.FromResult(result);
    }

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        CompleteOwned(command);
        return result;
    }

    public override ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        CompleteOwned(command);
        return ValueTask.FromResult(result);
    }

    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) => AbandonOwned(command);

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        AbandonOwned(command);
        return Task.CompletedTask;
    }

    public override void CommandCanceled(DbCommand command, CommandEndEventData eventData) => AbandonOwned(command);

    public override Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        AbandonOwned(command);
        return Task.CompletedTask;
    }

    private void BeforeWrite(DbCommand command)
    {
        if (!IsWrite(command.CommandText) || command.Connection is not { } connection)
        {
            return;
        }

        var transaction = command.Transaction;
        if (transaction is null)
        {
            // Microsoft.Data.Sqlite begins IMMEDIATE: we hold the write lock from here to the commit.
            transaction = connection.BeginTransaction();
            command.Transaction = transaction;
            _commandTransactions.AddOrUpdate(command, transaction);
        }

        if (!_transactions.TryGetValue(transaction, out _))
        {
            _transactions.AddOrUpdate(transaction, new TransactionState(AuditSealer.ReadWatermark(connection, transaction)));
        }
    }

    private void CompleteOwned(DbCommand command)
    {
        if (!_commandTransactions.TryGetValue(command, out var transaction))
        {
            return;
        }

        _commandTransactions.Remove(command);
        command.Transaction = null;
        try
        {
            SealBeforeCommit(transaction);
            transaction.Commit();
        }
        catch
        {
            transaction.Rollback();
            throw;
        }
        finally
        {
            _transactions.Remove(transaction);
            transaction.Dispose();
        }
    }

    private void AbandonOwned(DbCommand command)
    {
        if (!_commandTransactions.TryGetValue(command, out var transaction))
        {
            return;
        }

        _commandTransactions.Remove(command);
        _transactions.Remove(transaction);
        command.Transaction = null;
        transaction.Rollback();
        transaction.Dispose();
    }

    // ---- Transactions: seal before commit ----

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        SealBeforeCommit(transaction);
        return result;
    }

    public ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        SealBeforeCommit(transaction);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => _transactions.Remove(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _transactions.Remove(transaction);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => _transactions.Remove(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _transactions.Remove(transaction);
        return Task.CompletedTask;
    }

    private void SealBeforeCommit(DbTransaction transaction)
    {
        if (!_transactions.TryGetValue(transaction, out var state) || transaction.Connection is not { } connection)
        {
            return;
        }

        var context = contextAccessor.Current;
        if (spool is null)
        {
            try
            {
                sealer.Seal(connection, transaction, state.Watermark, context, state.TransactionId);
            }
            catch (Exception ex)
            {
                throw new AuditCaptureException(
                    $"The change was not saved because its audit entry could not be written ({ex.Message}). " +
                    "Nothing was committed; try again, and if it keeps failing check the database with 'verify' and the logs.", ex);
            }

            return;
        }

        // Never-block: a failed seal is undone to the savepoint, and this transaction's captured rows go to the
        // durable spool before the change commits. Only if the spool cannot be written either does the change fail.
        transaction.Save(SealSavepoint);
        try
        {
            sealer.Seal(connection, transaction, state.Watermark, context, state.TransactionId);
            transaction.Release(SealSavepoint);
        }
        catch (Exception sealError)
        {
            try
            {
                transaction.Rollback(SealSavepoint);
                transaction.Release(SealSavepoint);
                var rows = AuditSealer.TakeOwnRows(connection, transaction, state.Watermark);
                spool.Append(new SpoolRecord(state.TransactionId, sealer.UtcNow, context, rows, sealError.Message));
            }
            catch (Exception spoolError)
            {
                throw new AuditCaptureException(
                    $"The change was not saved: its audit entry could not be written ({sealError.Message}) nor spooled ({spoolError.Message}). " +
                    "Nothing was committed; check the database with 'verify' and that the spool folder is writable.", new AggregateException(sealError, spoolError));
            }
        }
    }

    private const string SealSavepoint = "cc_seal";

    internal static bool IsWrite(string sql)
    {
        var span = sql.AsSpan();
        while (true)
        {
            span = span.TrimStart();
            if (span.StartsWith("--"))
            {
                var end = span.IndexOf('\n');
                if (end < 0)
                {
                    return false;
                }

                span = span[(end + 1)..];
                continue;
            }

            // SQL Server batches from EF open with SET options and table variables before the write itself.
            if (StartsWithWord(span, "SET") || StartsWithWord(span, "DECLARE"))
            {
                var end = span.IndexOf(';');
                if (end < 0)
                {
                    return false;
                }

                span = span[(end + 1)..];
                continue;
            }

            break;
        }

        return StartsWithWord(span, "INSERT") || StartsWithWord(span, "UPDATE") || StartsWithWord(span, "DELETE")
            || StartsWithWord(span, "REPLACE") || StartsWithWord(span, "MERGE") || StartsWithWord(span, "WITH");
    }

    private static bool StartsWithWord(ReadOnlySpan<char> span, string word) =>
        span.Length > word.Length && span.StartsWith(word, StringComparison.OrdinalIgnoreCase) && !char.IsLetterOrDigit(span[word.Length]);

    private sealed class TransactionState(long watermark)
    {
        public long Watermark { get; } = watermark;
        public string TransactionId { get; } = Guid.NewGuid().ToString("N");
    }

    private sealed record SaveTransaction(IDbContextTransaction Transaction, bool AutoSavepoints);
}

using System.Data.Common;
using System.Runtime.CompilerServices;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging;

namespace ComplianceConsole.Data.Interceptors;

/// <summary>
/// The capture path seen from EF. The database triggers capture every row change; this interceptor seals the
/// captured rows into the chain just before each transaction commits, with the actor and context of the scope
/// that makes the write (<see cref="AuditScope.Resolve"/>).
///
/// - Every transaction EF starts or is handed is tracked from its start: on SQLite the pending-row watermark is
///   read then, under the write lock (Microsoft.Data.Sqlite begins IMMEDIATE). At its commit, the transaction's own
///   pending rows are sealed, whatever the commands in it were (raw ADO.NET commands on the same connection too).
/// - SaveChanges: EF owns the transaction (<see cref="AutoTransactionBehavior.Always"/>), so the seal runs inside
///   EF's execution strategy and before EF accepts the changes. A failed seal fails the SaveChanges like any failed
///   command: the changes stay pending and a retry saves them. Retrying strategies work.
/// - A command outside a transaction that may write, as EF's <see cref="CommandSource"/> tells (SaveChanges,
///   ExecuteUpdate/Delete, ExecuteSql, FromSql, unknown), gets a transaction of its own, sealed and committed as
///   soon as it has run. No SQL text is parsed, so comments, batches, EXEC and IF cannot hide a write.
/// - A transaction that wrote nothing to an audited table seals nothing (the sealer finds no rows of its own).
/// </summary>
public sealed class AuditTrailInterceptor(IAuditContextAccessor? contextAccessor, AuditSealer sealer, AuditSpool? spool = null, ILogger? log = null)
    : DbCommandInterceptor, IDbTransactionInterceptor, ISaveChangesInterceptor
{
    private const string SealSavepoint = "cc_seal";

    private readonly ConditionalWeakTable<DbTransaction, TransactionState> _transactions = new();
    private readonly ConditionalWeakTable<DbCommand, DbTransaction> _commandTransactions = new();

    // ---- SaveChanges: EF owns the transaction ----

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        RefuseAmbientTransaction(eventData.Context is { } c ? System.Transactions.TransactionsDatabaseFacadeExtensions.GetEnlistedTransaction(c.Database) : null);
        AlwaysInTransaction(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        RefuseAmbientTransaction(eventData.Context is { } c ? System.Transactions.TransactionsDatabaseFacadeExtensions.GetEnlistedTransaction(c.Database) : null);
        AlwaysInTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    /// <summary>
    /// A System.Transactions transaction (TransactionScope, or one the connection was enlisted in) commits outside EF and
    /// ADO.NET's DbTransaction, where no seal can run before it: its audited writes would commit unsealed, attributed to no
    /// one. So they are refused before anything is sent. An explicit DbTransaction at any isolation level works instead.
    /// </summary>
    private static void RefuseAmbientTransaction(System.Transactions.Transaction? enlisted)
    {
        if ((enlisted ?? System.Transactions.Transaction.Current) is not null)
        {
            throw new AuditCaptureException(
                "Audited changes cannot be made inside a TransactionScope (System.Transactions): it commits outside EF, where the audit entry cannot be sealed into the same transaction. Nothing was saved. Use DbContext.Database.BeginTransaction (any isolation level, Serializable and Snapshot included), or suppress the scope around the change with TransactionScopeOption.Suppress.");
        }
    }

    // EF skips the transaction for a single statement; the seal needs one, so that it commits with the change.
    private static void AlwaysInTransaction(DbContext? context)
    {
        if (context is not null)
        {
            context.Database.AutoTransactionBehavior = AutoTransactionBehavior.Always;
        }
    }

    // ---- Transactions: tracked from their start, sealed before their commit ----

    public DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        TrackAsync(connection, result, eventData.Context, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public async ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        await TrackAsync(connection, result, eventData.Context, async: true, cancellationToken);
        return result;
    }

    public DbTransaction TransactionUsed(DbConnection connection, TransactionEventData eventData, DbTransaction result)
    {
        TrackAsync(connection, result, eventData.Context, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public async ValueTask<DbTransaction> TransactionUsedAsync(DbConnection connection, TransactionEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        await TrackAsync(connection, result, eventData.Context, async: true, cancellationToken);
        return result;
    }

    public InterceptionResult TransactionCommitting(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result)
    {
        SealBeforeCommitAsync(transaction, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public async ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        await SealBeforeCommitAsync(transaction, async: true, cancellationToken);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => _transactions.Remove(transaction);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _transactions.Remove(transaction);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => RetractSpooled(transaction);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        RetractSpooled(transaction);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Never-block: the change's entries were spooled but its commit failed, so the change never happened: its spool
    /// line goes. (After a crash instead, replay finds no spool mark for it and quarantines it without sealing.)
    /// </summary>
    private void RetractSpooled(DbTransaction transaction)
    {
        if (_transactions.TryGetValue(transaction, out var state) && state.Spooled)
        {
            state.Spooled = false;
            spool?.Retract(state.TransactionId);
        }
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => _transactions.Remove(transaction);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        _transactions.Remove(transaction);
        return Task.CompletedTask;
    }

    // ---- Commands: a write outside a transaction gets one of its own ----

    public override InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        BeforeCommandAsync(command, eventData, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        await BeforeCommandAsync(command, eventData, async: true, cancellationToken);
        return result;
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        CompleteOwnedAsync(command, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        await CompleteOwnedAsync(command, async: true, cancellationToken);
        return result;
    }

    public override InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        BeforeCommandAsync(command, eventData, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        await BeforeCommandAsync(command, eventData, async: true, cancellationToken);
        return result;
    }

    public override InterceptionResult DataReaderClosing(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        // A write that returns rows (INSERT ... RETURNING, EXEC through FromSql) outside a transaction: commit once
        // read. The reader is closed first, because SQL Server without MARS runs no other command beside it.
        if (_commandTransactions.TryGetValue(command, out _))
        {
            eventData.DataReader.Close();
        }

        CompleteOwnedAsync(command, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<InterceptionResult> DataReaderClosingAsync(DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
    {
        if (_commandTransactions.TryGetValue(command, out _))
        {
            await eventData.DataReader.CloseAsync();
        }

        await CompleteOwnedAsync(command, async: true, default);
        return result;
    }

    public override InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        BeforeCommandAsync(command, eventData, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<InterceptionResult<object>> ScalarExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default)
    {
        await BeforeCommandAsync(command, eventData, async: true, cancellationToken);
        return result;
    }

    public override object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        CompleteOwnedAsync(command, async: false, default).GetAwaiter().GetResult();
        return result;
    }

    public override async ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        await CompleteOwnedAsync(command, async: true, cancellationToken);
        return result;
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

    /// <summary>
    /// Whether a command may write. LINQ queries, value generators, scaffolding and migrations do not write audited
    /// rows on their own account (migrations run in EF transactions, which are tracked like any other).
    /// </summary>
    internal static bool MayWrite(CommandSource source) =>
        source is not (CommandSource.LinqQuery or CommandSource.ValueGenerator or CommandSource.Scaffolding or CommandSource.Migrations);

    private async Task BeforeCommandAsync(DbCommand command, CommandEventData eventData, bool async, CancellationToken cancellationToken)
    {
        if (!MayWrite(eventData.CommandSource) || command.Connection is not { } connection)
        {
            return;
        }

        var transaction = command.Transaction;
        if (transaction is null)
        {
            RefuseAmbientTransaction(eventData.Context is { } c ? System.Transactions.TransactionsDatabaseFacadeExtensions.GetEnlistedTransaction(c.Database) : null);
            transaction = async ? await connection.BeginTransactionAsync(cancellationToken) : connection.BeginTransaction();
            command.Transaction = transaction;
            _commandTransactions.AddOrUpdate(command, transaction);
        }

        if (!_transactions.TryGetValue(transaction, out _))
        {
            await TrackAsync(connection, transaction, eventData.Context, async, cancellationToken);
        }
    }

    private async Task TrackAsync(DbConnection connection, DbTransaction transaction, DbContext? context, bool async, CancellationToken cancellationToken)
    {
        long watermark;
        try
        {
            watermark = await AuditSealer.ReadWatermarkAsync(connection, transaction, async, cancellationToken);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 1 && e.Message.Contains("no such table", StringComparison.Ordinal))
        {
            return; // the audit store does not exist yet: this is the migration that creates it
        }

        // SQL Server: the store's schema from the model, and the context's command timeout, which the chain lock's wait stays under.
        var schema = context is null ? AuditStoreModel.DefaultSqlServerSchema : AuditStoreModel.SqlServerSchemaOf(context.Model);
        _transactions.AddOrUpdate(transaction, new TransactionState(watermark, schema, context?.Database.GetCommandTimeout()));
    }

    private async Task CompleteOwnedAsync(DbCommand command, bool async, CancellationToken cancellationToken)
    {
        if (!_commandTransactions.TryGetValue(command, out var transaction))
        {
            return;
        }

        _commandTransactions.Remove(command);
        command.Transaction = null;
        try
        {
            await SealBeforeCommitAsync(transaction, async, cancellationToken);
            if (async)
            {
                await transaction.CommitAsync(cancellationToken);
            }
            else
            {
                transaction.Commit();
            }
        }
        catch
        {
            RetractSpooled(transaction);
            if (async)
            {
                await transaction.RollbackAsync(CancellationToken.None);
            }
            else
            {
                transaction.Rollback();
            }

            throw;
        }
        finally
        {
            _transactions.Remove(transaction);
            if (async)
            {
                await transaction.DisposeAsync();
            }
            else
            {
                transaction.Dispose();
            }
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

    private async Task SealBeforeCommitAsync(DbTransaction transaction, bool async, CancellationToken cancellationToken)
    {
        if (!_transactions.TryGetValue(transaction, out var state) || transaction.Connection is not { } connection)
        {
            return;
        }

        var context = AuditScope.Resolve(contextAccessor);
        if (spool is null)
        {
            try
            {
                await sealer.SealAsync(connection, transaction, state.Watermark, context, state.TransactionId, async, cancellationToken, state.Schema, state.CommandTimeout);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (IsTransient(ex))
                {
                    // A deadlock or a timeout fails the save as a failed command would, unwrapped, so that a retrying
                    // execution strategy runs the whole save again, seal included.
                    log?.LogWarning(ex, "A change's audit seal failed with a transient error; nothing was committed.");
                    throw;
                }

                throw Failure(ex.Message, ex);
            }

            return;
        }

        // Never-block: a failed seal is undone to the savepoint, and this transaction's captured rows go to the
        // durable spool before the change commits. Only if the spool cannot be written either does the change fail.
        if (async)
        {
            await transaction.SaveAsync(SealSavepoint, cancellationToken);
        }
        else
        {
            transaction.Save(SealSavepoint);
        }

        try
        {
            await sealer.SealAsync(connection, transaction, state.Watermark, context, state.TransactionId, async, cancellationToken, state.Schema, state.CommandTimeout);
            transaction.Release(SealSavepoint);
        }
        catch (Exception sealError) when (sealError is not OperationCanceledException)
        {
            try
            {
                transaction.Rollback(SealSavepoint);
                transaction.Release(SealSavepoint);
                var rows = AuditSealer.TakeOwnRows(connection, transaction, state.Watermark, state.Schema);
                // The mark commits with the change, or not at all: replay seals a spooled record only if it finds it.
                AuditSealer.WriteSpoolMark(connection, transaction, state.TransactionId, sealer.UtcNow, state.Schema);
                spool.Append(new SpoolRecord(state.TransactionId, sealer.UtcNow, context, rows, sealError.Message));
                state.Spooled = true;
                log?.LogError(sealError, "An audit entry could not be written; the change committed and its {Count} entries were spooled (never-block mode).", rows.Count);
            }
            catch (Exception spoolError)
            {
                throw Failure($"it could not be written: {sealError.Message}; nor spooled: {spoolError.Message}", new AggregateException(sealError, spoolError));
            }
        }
    }

#pragma warning disable EF1001 // the SQL Server provider's own list of transient errors, the one its retrying strategy uses
    private static bool IsTransient(Exception ex) =>
        ex is TimeoutException or System.Data.Common.DbException { IsTransient: true }
        || Microsoft.EntityFrameworkCore.SqlServer.Storage.Internal.SqlServerTransientExceptionDetector.ShouldRetryOn(ex);
#pragma warning restore EF1001

    private AuditCaptureException Failure(string reason, Exception inner)
    {
        log?.LogError(inner, "A change was refused because its audit entry could not be written.");
        return new AuditCaptureException(
            $"The change was not saved because the audit trail cannot be written; an administrator has been alerted. Nothing was committed. ({reason})", inner);
    }

    private sealed class TransactionState(long watermark, string schema, int? commandTimeout)
    {
        public long Watermark { get; } = watermark;
        public string Schema { get; } = schema;
        public int? CommandTimeout { get; } = commandTimeout;
        public string TransactionId { get; } = Guid.NewGuid().ToString("N");

        /// <summary>Never-block: this transaction's entries are in the spool, waiting for its commit.</summary>
        public bool Spooled { get; set; }
    }
}

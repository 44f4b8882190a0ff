using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Logging;

namespace ComplianceConsole.Data.Capture;

/// <summary>The public API of the capture engine for any DbContext.</summary>
public static class AuditTrailExtensions
{
    /// <summary>
    /// Opts a DbContext into the audit trail: its model gets the audit store, and every write it makes is sealed into
    /// the hash chain in its own transaction. Each write is attributed to <paramref name="contextAccessor"/>'s context
    /// when it has one, else to the ambient <see cref="AuditScope"/> of the flow that makes it, else it is recorded
    /// with the visible origin <c>unattributed</c>. Registrations whose options are built once for all scopes
    /// (<c>AddDbContextFactory</c>, <c>AddDbContextPool</c>, <c>AddPooledDbContextFactory</c>) pass no accessor and rely on
    /// <see cref="AuditScope"/>. After migrating, call <see cref="InstallAuditCaptureAsync"/> once at start-up.
    /// </summary>
    /// <param name="neverBlockSpool">Never-block mode: where entries go when they cannot be written; null fails the change instead.</param>
    /// <param name="log">Where a refused or spooled change is logged, so that an administrator is alerted.</param>
    public static DbContextOptionsBuilder UseAuditTrail(this DbContextOptionsBuilder builder, IAuditContextAccessor? contextAccessor = null, TimeProvider? time = null, AuditSpool? neverBlockSpool = null, ILogger? log = null)
    {
        builder.ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCustomizer, AuditModelCustomizer>();
        return builder.AddInterceptors(new AuditTrailInterceptor(contextAccessor, new AuditSealer(time), neverBlockSpool, log));
    }

    /// <inheritdoc cref="UseAuditTrail(DbContextOptionsBuilder, IAuditContextAccessor?, TimeProvider?, AuditSpool?, ILogger?)"/>
    public static DbContextOptionsBuilder<TContext> UseAuditTrail<TContext>(this DbContextOptionsBuilder<TContext> builder, IAuditContextAccessor? contextAccessor = null, TimeProvider? time = null, AuditSpool? neverBlockSpool = null, ILogger? log = null)
        where TContext : DbContext =>
        (DbContextOptionsBuilder<TContext>)UseAuditTrail((DbContextOptionsBuilder)builder, contextAccessor, time, neverBlockSpool, log);

    /// <summary>
    /// Installs or updates the append-only guards and this context's capture triggers to match its model and policy.
    /// The triggers are owned by <paramref name="owner"/> (default: the context's full type name); an install never removes
    /// another owner's triggers, so several contexts can share one database. A trigger found missing or altered since
    /// the chain recorded it is restored and recorded as a tamper signal (<c>audit.capture_restored</c>).
    /// </summary>
    public static Task<AuditTriggerChanges> InstallAuditCaptureAsync(this DatabaseFacade database, AuditOptions options, string? owner = null, CancellationToken cancellationToken = default) =>
        AuditTriggerInstaller.InstallAsync(database, options, owner, cancellationToken);

    /// <summary>Removes capture from <paramref name="table"/> on purpose, recorded as <c>audit.capture_removed</c> with the reason (see <see cref="AuditTriggerInstaller.RemoveAsync"/>).</summary>
    public static Task<IReadOnlyList<string>> RemoveAuditCaptureAsync(this DatabaseFacade database, string table, string reason, AuditContext actor, CancellationToken cancellationToken = default) =>
        AuditTriggerInstaller.RemoveAsync(database, table, reason, actor, cancellationToken);

    /// <summary>
    /// Appends an event (login, export, a custom <c>resource.verb</c>) to the chain. Inside a transaction of the
    /// context it commits with that transaction; otherwise it commits on its own.
    /// </summary>
    public static async Task RecordAuditEventAsync(this DatabaseFacade database, AuditEventRequest request, CancellationToken cancellationToken = default)
    {
        if (!AuditEventNames.IsValid(request.Name))
        {
            throw new ArgumentException(
                $"\"{request.Name}\" is not an event name: use resource.verb in lower case, for example report.exported, at most {AuditFieldLimits.EventName} characters.", nameof(request));
        }

        var metadata = request.Metadata is null ? null
            : JsonSerializer.Serialize(new SortedDictionary<string, string?>(request.Metadata.ToDictionary(), StringComparer.Ordinal));
        var now = DateTime.UtcNow;
        // A 300-character email typed at sign-in still records its failed login: values longer than the store keeps are cut, visibly.
        var target = AuditFieldLimits.Fit(request.Target, AuditFieldLimits.Target);
        var tenant = AuditFieldLimits.Fit(request.Tenant, AuditFieldLimits.Tenant);
        var actorId = AuditFieldLimits.Fit(request.Actor?.Id, AuditFieldLimits.ActorId);
        var actorName = AuditFieldLimits.Fit(request.Actor?.Name, AuditFieldLimits.ActorName);
        // The store's table, qualified with its schema on SQL Server (a runtime user's default schema may be another).
        var pending = database.IsSqlServer()
            ? $"{SqlServerAuditSql.Quote(AuditStoreModel.SqlServerSchemaOf(database.GetService<ICurrentDbContext>().Context.Model))}.[{AuditStoreModel.PendingTable}]"
            : $"\"{AuditStoreModel.PendingTable}\"";
        await database.ExecuteSqlAsync(System.Runtime.CompilerServices.FormattableStringFactory.Create(
            $$"""
            INSERT INTO {{pending}} ("Operation", "EventName", "Target", "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc")
            VALUES ('event', {0}, {1}, {2}, {3}, {4}, {5}, {6})
            """, request.Name, target, metadata, tenant, actorId, actorName, now), cancellationToken);
    }

    /// <summary>
    /// Seals rows captured from writes made outside the app (out-of-band) into the chain. On SQLite the app also does
    /// this at every write it makes; on SQL Server an app transaction seals only its own rows, and this is what seals
    /// the others: in transactions of at most <see cref="SqlServerAuditSealer.OutOfBandBatch"/> rows each, streamed, so a
    /// DBA's UPDATE of 200k rows never holds the chain lock for long nor sits in memory at once. Call it every few
    /// seconds (the console's sealing service does).
    /// </summary>
    public static async Task<int> SealOutOfBandAsync(this DatabaseFacade database, CancellationToken cancellationToken = default)
    {
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            if (database.IsSqlServer())
            {
                var schema = AuditStoreModel.SqlServerSchemaOf(database.GetService<ICurrentDbContext>().Context.Model);
                var total = 0;
                int sealedNow;
                do
                {
                    await using var batch = await connection.BeginTransactionAsync(cancellationToken);
                    sealedNow = await SqlServerAuditSealer.SealOutOfBandBatchAsync(connection, batch, schema, SqlServerAuditSealer.OutOfBandBatch, cancellationToken);
                    await batch.CommitAsync(cancellationToken);
                    total += sealedNow;
                }
                while (sealedNow == SqlServerAuditSealer.OutOfBandBatch);

                return total;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var sealer = new AuditSealer(TimeProvider.System);
            var count = sealer.Seal(connection, transaction, AuditSealer.SealEverythingAsOutOfBand, AuditContext.ForJob("out-of-band-sealer"), Guid.NewGuid().ToString("N"));
            if (connection is Microsoft.Data.Sqlite.SqliteConnection)
            {
                // Notes of rows a REPLACE might have deleted, left by statements that ignored their row: never entries.
                await using var clear = connection.CreateCommand();
                clear.Transaction = transaction;
                clear.CommandText = $"""DELETE FROM "{AuditStoreModel.StashTable}" """;
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return count;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Verifies the trail, read-only: recomputes the whole chain in seq order and names the first broken entry; checks
    /// that every capture trigger and append-only guard the chain recorded is present and unaltered, and that no
    /// unknown trigger sits on the store; counts the out-of-band changes not yet sealed. Writes nothing.
    /// </summary>
    /// <param name="checkpoints">When given, the chain is also checked against the signed checkpoints it was read with:
    /// truncation below one, a rewrite of entries one covers, a removed or forged checkpoint, and a checkpoint the chain
    /// recorded (<c>audit.checkpoint_signed</c>) that is not among them.</param>
    /// <param name="progress">Told the number of entries checked so far, after each batch (the integrity page's progress bar).</param>
    public static async Task<AuditVerificationReport> VerifyAuditChainAsync(this DbContext context, CheckpointVerifier? checkpoints = null, IReadOnlySet<string>? checkpointSignatures = null, CancellationToken cancellationToken = default, IProgress<long>? progress = null)
    {
        // The ranges a retention purge removed: the chain links across each (see HashChainVerifier).
        var removed = await context.Set<Retention.AuditRemovedRangeRow>().AsNoTracking().OrderBy(r => r.FirstSeq)
            .Select(r => new RemovedRange(r.FirstSeq, r.ThroughSeq, r.LastRowHash, r.RunId)).ToListAsync(cancellationToken);
        var verifier = new HashChainVerifier(removed: removed) { Observer = checkpoints is null ? null : checkpoints.Observe };
        var recordedCheckpoints = new List<(long Seq, string? Metadata)>();
        var intact = true;
        long read = 0;
        await foreach (var batch in ReadEntriesAsync(context, HashChainVerifier.DefaultBatchSize, cancellationToken))
        {
            // Payload hashes of a batch are computed on every core; only the row-hash links are sequential.
            intact = intact && verifier.AddBatch(batch);
            progress?.Report(read += batch.Count);
            if (checkpoints is null)
            {
                if (!intact)
                {
                    break;
                }

                continue;
            }

            if (!intact)
            {
                // The verifier stops observing at the break; the checkpoints still see every entry after it.
                foreach (var entry in batch.Where(e => e.Seq > verifier.ObservedThrough))
                {
                    checkpoints.Observe(entry.Seq, entry.RowHash);
                }
            }

            recordedCheckpoints.AddRange(batch.Where(e => e.EventName == AuditEventNames.CheckpointSigned).Select(e => (e.Seq, e.Metadata)));
        }

        var checkpointResult = checkpoints?.Complete(verifier.Result());
        var problems = checkpointResult?.Problems.Select(p => p.Message).ToList() ?? [];
        foreach (var (seq, metadata) in recordedCheckpoints)
        {
            var signature = metadata is null ? null : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string?>>(metadata)?.GetValueOrDefault("signature");
            if (signature is not null && checkpointSignatures is not null && !checkpointSignatures.Contains(signature))
            {
                problems.Add($"the checkpoint recorded in the chain at seq {seq} is not in the checkpoint folder: a checkpoint was removed");
            }
        }

        var pending = await context.Set<AuditPendingRow>().CountAsync(cancellationToken);
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = context.Database.GetDbConnection();
            var installed = await AuditTriggerState.ReadInstalledAsync(connection, null, cancellationToken);
            var recorded = await AuditTriggerState.ReadRecordedAsync(connection, null, cancellationToken);
            var triggers = AuditTriggerState.Compare(installed, recorded, AuditTriggerState.GuardsOf(connection).Keys);
            return new AuditVerificationReport(verifier.Result(), pending, triggers.Select(t => t.Message).ToList(), problems, checkpointResult?.Describe().Split(Environment.NewLine)[0]);
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }
    /// <summary>The whole chain in seq order, in batches, read with the provider's reader: no tracking, no EF materializer.</summary>
    private static async IAsyncEnumerable<List<AuditEntry>> ReadEntriesAsync(DbContext context, int batchSize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await context.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = context.Database.GetDbConnection().CreateCommand();
            var q = context.Database.IsSqlServer() ? (Func<string, string>)(c => $"[{c}]") : c => $"\"{c}\"";
            string[] columns = ["Seq", "Version", "OccurredAtUtc", "Operation", "EventName", "TableName", "RecordKey", "OldValues", "NewValues", "ChangedColumns",
                "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId", "IpAddress", "UserAgent", "Tenant", "Target", "Metadata",
                "PayloadHash", "RowHash"];
            command.CommandText = $"SELECT {string.Join(", ", columns.Select(q))} FROM {q(AuditStoreModel.EntriesTable)} ORDER BY {q("Seq")}";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            var batch = new List<AuditEntry>(batchSize);
            while (await reader.ReadAsync(cancellationToken))
            {
                batch.Add(new AuditEntry
                {
                    Seq = reader.GetInt64(0), Version = reader.GetInt32(1), OccurredAtUtc = reader.GetDateTime(2), Operation = reader.GetString(3),
                    EventName = S(4), TableName = S(5), RecordKey = S(6), OldValues = S(7), NewValues = S(8), ChangedColumns = S(9),
                    ActorId = S(10), ActorName = S(11), ActorRoles = S(12), Origin = reader.GetString(13), OutOfBand = reader.GetBoolean(14),
                    CorrelationId = S(15), TransactionId = S(16), IpAddress = S(17), UserAgent = S(18), Tenant = S(19), Target = S(20), Metadata = S(21),
                    PayloadHash = reader.GetString(22), RowHash = reader.GetString(23),
                });
                if (batch.Count == batchSize)
                {
                    yield return batch;
                    batch = new List<AuditEntry>(batchSize);
                }
            }

            if (batch.Count > 0)
            {
                yield return batch;
            }
        }
        finally
        {
            await context.Database.CloseConnectionAsync();
        }
    }
}

/// <param name="TriggerProblems">Capture triggers or guards missing or altered since the chain recorded them, and unknown triggers on the store.</param>
/// <param name="CheckpointProblems">Truncation, rewrites, removed or forged checkpoints; empty when checkpoints were not checked.</param>
/// <param name="CheckpointSummary">What the checkpoints prove, when they were checked.</param>
public sealed record AuditVerificationReport(ChainVerificationResult Chain, int UnsealedOutOfBandRows, IReadOnlyList<string> TriggerProblems,
    IReadOnlyList<string> CheckpointProblems, string? CheckpointSummary)
{
    public bool IsValid => Chain.IsValid && TriggerProblems.Count == 0 && CheckpointProblems.Count == 0;

    public string Describe() => Chain.Describe()
        + (CheckpointSummary is null ? "" : Environment.NewLine + CheckpointSummary)
        + string.Concat(CheckpointProblems.Select(p => Environment.NewLine + "  CHECKPOINT: " + p))
        + (TriggerProblems.Count > 0 ? " CAPTURE TAMPERED: " + string.Join("; ", TriggerProblems) + ". Changes made while a trigger was missing are not in the trail; restart the console to restore the triggers (recorded as audit.capture_restored)." : "")
        + (UnsealedOutOfBandRows > 0
            ? $" {UnsealedOutOfBandRows} out-of-band change(s) are captured but not yet sealed into the chain; they will be at the next write or sealing run."
            : "");
}

internal sealed class FixedTime(DateTime utc) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));
}

internal sealed class AuditModelCustomizer(ModelCustomizerDependencies dependencies) : RelationalModelCustomizer(dependencies)
{
    public override void Customize(ModelBuilder modelBuilder, DbContext context)
    {
        base.Customize(modelBuilder, context);
        modelBuilder.AddAuditStore(context.Database.IsSqlServer());
    }
}

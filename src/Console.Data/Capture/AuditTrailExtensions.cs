using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

/// <summary>The public API of the capture engine for any DbContext.</summary>
public static class AuditTrailExtensions
{
    /// <summary>
    /// Opts a DbContext into the audit trail: its model gets the audit store, and every write it makes is
    /// sealed into the hash chain in its own transaction, attributed through <paramref name="contextAccessor"/>.
    /// The value mode (changed-only or full record) is part of the policy the triggers are installed with.
    /// After migrating, call <see cref="InstallAuditCaptureAsync"/> once at start-up to install the triggers.
    /// </summary>
    /// <param name="neverBlockSpool">Never-block mode: where entries go when they cannot be written; null fails the change instead.</param>
    public static DbContextOptionsBuilder UseAuditTrail(this DbContextOptionsBuilder builder, IAuditContextAccessor contextAccessor, TimeProvider? time = null, AuditSpool? neverBlockSpool = null)
    {
        builder.ReplaceService<Microsoft.EntityFrameworkCore.Infrastructure.IModelCustomizer, AuditModelCustomizer>();
        return builder.AddInterceptors(new AuditTrailInterceptor(contextAccessor, new AuditSealer(time ?? TimeProvider.System), neverBlockSpool));
    }

    /// <inheritdoc cref="UseAuditTrail(DbContextOptionsBuilder, IAuditContextAccessor, TimeProvider?, AuditSpool?)"/>
    public static DbContextOptionsBuilder<TContext> UseAuditTrail<TContext>(this DbContextOptionsBuilder<TContext> builder, IAuditContextAccessor contextAccessor, TimeProvider? time = null, AuditSpool? neverBlockSpool = null)
        where TContext : DbContext =>
        (DbContextOptionsBuilder<TContext>)UseAuditTrail((DbContextOptionsBuilder)builder, contextAccessor, time, neverBlockSpool);

    /// <summary>Installs or updates the capture triggers and append-only guards to match the model and policy.</summary>
    public static Task<AuditTriggerChanges> InstallAuditCaptureAsync(this DatabaseFacade database, AuditOptions options, CancellationToken cancellationToken = default) =>
        AuditTriggerInstaller.InstallAsync(database, options, cancellationToken);

    /// <summary>
    /// Appends an event (login, export, a custom <c>resource.verb</c>) to the chain. Inside a transaction of the
    /// context it commits with that transaction; otherwise it commits on its own.
    /// </summary>
    public static async Task RecordAuditEventAsync(this DatabaseFacade database, AuditEventRequest request, CancellationToken cancellationToken = default)
    {
        if (!AuditEventNames.IsValid(request.Name))
        {
            throw new ArgumentException(
                $"\"{request.Name}\" is not an event name: use resource.verb in lower case, for example report.exported.", nameof(request));
        }

        var metadata = request.Metadata is null ? null
            : JsonSerializer.Serialize(new SortedDictionary<string, string?>(request.Metadata.ToDictionary(), StringComparer.Ordinal));
        var now = DateTime.UtcNow;
        await database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "AuditPending" ("Operation", "EventName", "Target", "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc")
            VALUES ('event', {request.Name}, {request.Target}, {metadata}, {request.Tenant}, {request.Actor?.Id}, {request.Actor?.Name}, {now})
            """, cancellationToken);
    }

    /// <summary>
    /// Seals rows captured from writes made outside the app (out-of-band) into the chain. The app also does
    /// this at every write it makes; call it to bound how long such rows wait when the app is idle.
    /// </summary>
    public static async Task<int> SealOutOfBandAsync(this DatabaseFacade database, CancellationToken cancellationToken = default)
    {
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var sealer = new AuditSealer(TimeProvider.System);
            var count = sealer.Seal(connection, transaction, AuditSealer.SealEverythingAsOutOfBand, AuditContext.ForJob("out-of-band-sealer"), Guid.NewGuid().ToString("N"));
            await transaction.CommitAsync(cancellationToken);
            return count;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>Recomputes the whole chain, streaming in seq order, and names the first broken entry.</summary>
    public static async Task<AuditVerificationReport> VerifyAuditChainAsync(this DbContext context, CancellationToken cancellationToken = default)
    {
        var verifier = new HashChainVerifier();
        await foreach (var entry in context.Set<AuditEntry>().AsNoTracking().OrderBy(e => e.Seq).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (!verifier.Add(entry))
            {
                break;
            }
        }

        var pending = await context.Set<AuditPendingRow>().CountAsync(cancellationToken);
        return new AuditVerificationReport(verifier.Result(), pending);
    }
}

public sealed record AuditVerificationReport(ChainVerificationResult Chain, int UnsealedOutOfBandRows)
{
    public bool IsValid => Chain.IsValid;

    public string Describe() => Chain.Describe() + (UnsealedOutOfBandRows > 0
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

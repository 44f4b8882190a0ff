using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Signs a checkpoint of the chain every <c>Audit:Checkpoints:IntervalMinutes</c> when it has moved, off the write path.
/// On the first run it generates the signing key and says where it and its public key are.
/// </summary>
public sealed class CheckpointService(DatabaseSettings settings, IOptions<AuditOptions> options, IHostEnvironment host, TimeProvider time, ILogger<CheckpointService> log) : BackgroundService
{
    public static (CheckpointKey Key, FolderCheckpointSink Sink) Open(CheckpointOptions options, string contentRoot)
    {
        string Resolve(string path) => ContentPath.Resolve(path, contentRoot);
        return (CheckpointKey.LoadOrCreate(Resolve(options.KeyPath), options.KeyEnvironmentVariable), new FolderCheckpointSink(Resolve(options.Folder)));
    }

    /// <summary>
    /// The newest checkpoint in the folder, checked against the public key (the <c>.pub.pem</c> beside the key; else the key
    /// itself, when it exists). Reads only: nothing is created when neither is there.
    /// </summary>
    public static async Task<CheckpointFile> ReadNewestAsync(CheckpointOptions options, string contentRoot, CancellationToken cancellationToken = default)
    {
        string Resolve(string path) => ContentPath.Resolve(path, contentRoot);
        var sink = new FolderCheckpointSink(Resolve(options.Folder));
        var read = await sink.ReadAllAsync(cancellationToken);
        if (read.Last is not { } newest)
        {
            return new CheckpointFile(sink.FilePath, null, false, read.Unreadable.Count);
        }

        var keyPath = Resolve(options.KeyPath);
        var publicPath = CheckpointKey.PublicKeyPathFor(keyPath);
        var fromEnvironment = options.KeyEnvironmentVariable is { Length: > 0 } variable && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable));
        if (!File.Exists(publicPath) && !fromEnvironment && !File.Exists(keyPath))
        {
            return new CheckpointFile(sink.FilePath, newest, false, read.Unreadable.Count,
                $"The newest checkpoint in {sink.FilePath} covers seq {newest.Seq:N0}, but there is no key to check its signature with ({publicPath}): run 'verify' with the public key.");
        }

        using var key = File.Exists(publicPath) && !fromEnvironment ? null : CheckpointKey.LoadOrCreate(keyPath, options.KeyEnvironmentVariable);
        using var publicKey = key is null ? CheckpointPublicKey.FromPemFile(publicPath) : CheckpointPublicKey.FromPem(key.PublicKey.Pem, key.Source);
        return new CheckpointFile(sink.FilePath, newest, newest.KeyId == publicKey.KeyId && publicKey.Verifies(newest), read.Unreadable.Count);
    }

    /// <summary>Signs one checkpoint now, if the chain moved; the `checkpoint` verb and the schedule both use it.</summary>
    public static async Task<Checkpoint?> SignNowAsync(DatabaseSettings settings, CheckpointKey key, ICheckpointSink sink, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("checkpoint")), time));
        return await AuditCheckpoints.SignAsync(db, key, sink, time, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var (key, sink) = Open(options.Value.Checkpoints, host.ContentRootPath);
        using (key)
        {
            if (key.WasGenerated)
            {
                log.LogWarning("Generated a checkpoint signing key at {Path}; its public key is at {PublicKey}. Keep the private key outside the database's backups; give auditors the public key.",
                    key.Source, CheckpointKey.PublicKeyPathFor(key.Source));
            }

            using var timer = new PeriodicTimer(TimeSpan.FromMinutes(options.Value.Checkpoints.IntervalMinutes));
            do
            {
                var started = time.GetUtcNow().UtcDateTime;
                string? error = null, summary = null;
                try
                {
                    if (await SignNowAsync(settings, key, sink, time, stoppingToken) is { } checkpoint)
                    {
                        log.LogInformation("Signed checkpoint of seq {Seq} into {Folder}.", checkpoint.Seq, sink.FilePath);
                        summary = $"Signed seq {checkpoint.Seq:N0} into {sink.FilePath}.";
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogError(ex, "A checkpoint could not be signed; retried at the next interval.");
                    error = ex.Message;
                }

                // Listed on /jobs when it signed or failed (an idle chain signs nothing, and is not listed every few minutes).
                if (summary is not null || error is not null)
                {
                    await RecordRunAsync(started, error, summary);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
    }

    private async Task RecordRunAsync(DateTime started, string? error, string? summary)
    {
        try
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            await Data.Retention.JobLog.RecordAsync(db, Data.Retention.JobNames.Checkpoint, "schedule", started, time.GetUtcNow().UtcDateTime, error, summary);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "A checkpoint run could not be listed on /jobs.");
        }
    }
}

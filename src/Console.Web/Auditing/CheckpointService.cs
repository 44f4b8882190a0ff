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
        string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(contentRoot, path));
        return (CheckpointKey.LoadOrCreate(Resolve(options.KeyPath), options.KeyEnvironmentVariable), new FolderCheckpointSink(Resolve(options.Folder)));
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
                try
                {
                    if (await SignNowAsync(settings, key, sink, time, stoppingToken) is { } checkpoint)
                    {
                        log.LogInformation("Signed checkpoint of seq {Seq} into {Folder}.", checkpoint.Seq, sink.FilePath);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    log.LogError(ex, "A checkpoint could not be signed; retried at the next interval.");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
    }
}

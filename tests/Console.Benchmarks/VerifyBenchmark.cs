using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using SQLitePCL;

/// <summary>
/// <c>verify [--store PATH] [--rounds N] [--rebuild] [--entries N]</c>: verification of a 1,000,000-entry SQLite store, end to end.
/// The store is built once (entries captured as the triggers write them, sealed by the product's AuditSealer, signed
/// checkpoints every 100,000 entries through AuditCheckpoints) and reused while its marker file matches it. Then, in
/// one process and alternating round by round: (a) VerifyAuditChainAsync; (b) the same with the signed checkpoints;
/// (c) the same SELECT stepped with SQLite's own API, touching every column and building nothing: the floor set by
/// reading; (c') that SELECT read as verify reads it, into AuditEntry objects, with no hashing; (d) the core verifier
/// (HashChainVerifier.VerifyParallel) on the same entries held in memory. Each figure is the median over the rounds.
/// </summary>
internal static class VerifyBenchmark
{
    internal static long Entries = 1_000_000; // --entries N for a trial store (with --store elsewhere); QueryBenchmark sets 10M
    private const long CheckpointEvery = 100_000;
    private const long CommitEvery = 50_000;

    // The columns and order of AuditTrailExtensions.ReadEntriesAsync.
    private static readonly string[] Columns =
    [
        "Seq", "Version", "OccurredAtUtc", "Operation", "EventName", "TableName", "RecordKey", "OldValues", "NewValues", "ChangedColumns",
        "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId", "IpAddress", "UserAgent", "Tenant", "Target", "Metadata",
        "PayloadHash", "RowHash",
    ];

    private static readonly string SelectSql = $"SELECT {string.Join(", ", Columns.Select(c => $"\"{c}\""))} FROM \"AuditEntries\" ORDER BY \"Seq\"";

    public static async Task<int> RunAsync(string[] args)
    {
        if (!System.Runtime.GCSettings.IsServerGC && Environment.GetEnvironmentVariable("DOTNET_gcServer") is null)
        {
            // The console runs verify with server GC (Microsoft.NET.Sdk.Web); with workstation GC, and the entries of (d)
            // held in memory, collections take up to half the time. So this mode runs itself again with server GC.
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
            {
                start.ArgumentList.Add(typeof(VerifyBenchmark).Assembly.Location);
            }

            foreach (var arg in args.Prepend("verify"))
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment["DOTNET_gcServer"] = "1";
            using var child = Process.Start(start)!;
            await child.WaitForExitAsync();
            return child.ExitCode;
        }

        var storePath = Path.GetFullPath(Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-verify-1m", "store.db"));
        var rounds = int.Parse(Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        Entries = long.Parse(Option(args, "--entries") ?? "1000000", CultureInfo.InvariantCulture);
        var folder = Path.GetDirectoryName(storePath)!;
        var marker = storePath + ".complete";
        var checkpointFolder = Path.Combine(folder, "checkpoints");
        var keyPath = Path.Combine(folder, "checkpoint-key.pem");
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={storePath};Default Timeout=60");

        if (args.Contains("--rebuild") || !await IsCompleteAsync(settings, marker))
        {
            Directory.CreateDirectory(folder);
            foreach (var file in new[] { storePath, storePath + "-wal", storePath + "-shm", marker, keyPath, CheckpointKey.PublicKeyPathFor(keyPath) })
            {
                File.Delete(file);
            }

            if (Directory.Exists(checkpointFolder))
            {
                Directory.Delete(checkpointFolder, recursive: true);
            }

            await BuildAsync(settings, checkpointFolder, keyPath, marker);
        }
        else
        {
            Console.WriteLine($"Reusing {storePath} (built earlier; --rebuild, or deleting {Path.GetFileName(marker)}, builds it again).");
        }

        SqliteConnection.ClearAllPools();
        var sink = new FolderCheckpointSink(checkpointFolder);
        using var publicKey = CheckpointPublicKey.FromPemFile(CheckpointKey.PublicKeyPathFor(keyPath));
        var size = new FileInfo(storePath).Length;
        Console.WriteLine($"{Entries:N0} entries, {size / 1e6:F0} MB ({size / (double)Entries:F0} bytes per entry with indexes); {Environment.ProcessorCount} cores; {(System.Runtime.GCSettings.IsServerGC ? "server GC, as the console runs verify" : "workstation GC (DOTNET_gcServer=0)")}; {rounds} rounds after a warm-up.");

        var core = !args.Contains("--no-core");
        Console.Write("Loading every entry into memory for (d) ... ");
        var watch = Stopwatch.StartNew();
        var inMemory = new List<AuditEntry>((int)Entries);
        await using (var connection = new SqliteConnection(settings.ConnectionString))
        {
            await connection.OpenAsync();
            await foreach (var batch in ReadAsync(connection))
            {
                inMemory.AddRange(core ? batch : batch.Take(100_000 - inMemory.Count));
            }
        }

        var json = inMemory.Take(100_000).Average(e => Encoding.UTF8.GetByteCount(CanonicalJson.Of(e)));
        if (!core)
        {
            inMemory = [];
        }

        Console.WriteLine($"{watch.Elapsed.TotalSeconds:F1} s; canonical JSON {json:F0} bytes per entry on average.");

        var measures = new (string Name, Func<Task<long>> Run)[]
        {
            ("(a)  VerifyAuditChainAsync", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                var report = await db.VerifyAuditChainAsync();
                return report.IsValid ? report.Chain.EntriesChecked : throw new InvalidOperationException("The store does not verify: " + report.Describe());
            }),
            ("(b)  ... with the signed checkpoints", async () =>
            {
                var read = await sink.ReadAllAsync();
                var checkpoints = new CheckpointVerifier(read, publicKey);
                await using var db = ConsoleDbContextFactory.Create(settings);
                var report = await db.VerifyAuditChainAsync(checkpoints, read.Checkpoints.Select(c => c.Checkpoint.Signature).ToHashSet());
                return report.IsValid && report.CheckpointSummary is { } summary && summary.Contains("unaltered", StringComparison.Ordinal)
                    ? report.Chain.EntriesChecked
                    : throw new InvalidOperationException("The store does not verify against its checkpoints: " + report.Describe());
            }),
            ("(c)  read floor: SQLite steps the SELECT", () => Task.FromResult(StepRaw(settings))),
            ("(c') read as verify reads, no hashing", async () =>
            {
                await using var connection = new SqliteConnection(settings.ConnectionString);
                await connection.OpenAsync();
                var count = 0L;
                await foreach (var batch in ReadAsync(connection))
                {
                    count += batch.Count;
                }

                return count;
            }),
            ("(d)  core verifier, entries in memory", () =>
            {
                var result = HashChainVerifier.VerifyParallel(inMemory);
                return Task.FromResult(result.IsValid ? result.EntriesChecked : throw new InvalidOperationException(result.Describe()));
            }),
            ("(e)  prototype: SQLite API read || AddBatch", () => PipelinedAsync(settings)),
        };

        measures = core ? measures : measures.Where(m => !m.Name.StartsWith("(d)", StringComparison.Ordinal)).ToArray();
        var rates = measures.Select(_ => new List<double>()).ToList();
        for (var round = 0; round <= rounds; round++)
        {
            for (var m = 0; m < measures.Length; m++)
            {
                GC.Collect();
                watch.Restart();
                var count = await measures[m].Run();
                var seconds = watch.Elapsed.TotalSeconds;
                if (count != Entries)
                {
                    throw new InvalidOperationException($"{measures[m].Name} saw {count:N0} entries, not {Entries:N0}.");
                }

                if (round > 0)
                {
                    rates[m].Add(count / seconds);
                }
            }
        }

        Console.WriteLine();
        for (var m = 0; m < measures.Length; m++)
        {
            var median = CaptureBenchmark.Median(rates[m]);
            Console.WriteLine($"{measures[m].Name,-42} {median,12:N0} entries/s  ({Entries / median:F2} s; rounds {string.Join(" ", rates[m].Select(r => (r / 1000).ToString("F0", CultureInfo.InvariantCulture) + "k"))})");
        }

        return 0;
    }

    /// <summary>The store is complete when its marker names the head it was built to, and the chain ends there.</summary>
    private static async Task<bool> IsCompleteAsync(DatabaseSettings settings, string marker)
    {
        if (!File.Exists(marker) || !File.Exists(settings.SqliteFilePath) || (await File.ReadAllTextAsync(marker)).Trim() != Entries.ToString(CultureInfo.InvariantCulture))
        {
            return false;
        }

        await using var connection = new SqliteConnection(settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """SELECT coalesce(max("Seq"), 0) FROM "AuditEntries" """;
        return (long)(await command.ExecuteScalarAsync())! == Entries;
    }

    /// <summary>
    /// Builds the store through the product's own code: the migrations and triggers (DatabaseInitializer), pending rows as
    /// the capture triggers write them, sealed group by group by AuditSealer.Seal with each group's own context (one web
    /// request, job or out-of-band write each), committed every 50,000 entries; a checkpoint signed through
    /// AuditCheckpoints.SignAsync at every 100,000th entry, recorded in the chain like the console's own.
    /// </summary>
    internal static async Task BuildAsync(DatabaseSettings settings, string checkpointFolder, string keyPath, string marker)
    {
        var watch = Stopwatch.StartNew();
        Console.WriteLine($"Building {Entries:N0} entries in {settings.SqliteFilePath} (once; reused by later runs) ...");
        await DatabaseInitializer.InitializeAsync(settings, new AuditOptions());
        var time = new SimulatedTime(new DateTimeOffset(2025, 1, 6, 7, 0, 0, TimeSpan.Zero));
        var sealer = new AuditSealer(time);
        var random = new Random(20261201);
        var generator = new EntryGenerator(random);
        using var key = CheckpointKey.LoadOrCreate(keyPath);
        var sink = new FolderCheckpointSink(checkpointFolder);
        var job = new AuditContextAccessor(AuditContext.ForJob("checkpoint"));

        await using var connection = new SqliteConnection(settings.ConnectionString);
        await connection.OpenAsync();
        await using (var pragma = connection.CreateCommand())
        {
            // Build speed only: statement journals in memory (docs/benchmarks.md, "Capture overhead"). Nothing else changes.
            pragma.CommandText = "PRAGMA temp_store=MEMORY";
            await pragma.ExecuteNonQueryAsync();
        }

        long head;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """SELECT coalesce(max("Seq"), 0) FROM "AuditEntries" """;
            head = (long)(await command.ExecuteScalarAsync())!;
        }

        while (head < Entries)
        {
            // Up to the entry before the next checkpoint boundary, whose own event takes the boundary's seq.
            var checkpointAt = Math.Min(Entries, (head / CheckpointEvery + 1) * CheckpointEvery);
            while (head < checkpointAt - 1)
            {
                var commitAt = Math.Min(checkpointAt - 1, head + CommitEvery);
                await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
                await using var insert = connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = """
                    INSERT INTO "AuditPending" ("TableName", "Operation", "RecordKey", "OldValues", "NewValues", "ChangedColumns", "EventName", "Target",
                                                "Metadata", "Tenant", "ActorId", "ActorName", "CapturedAtUtc")
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                    """;
                var parameters = Enumerable.Range(1, 13).Select(i => insert.Parameters.Add(new SqliteParameter("$" + i, null))).ToArray();
                while (head < commitAt)
                {
                    var (context, rows) = generator.NextGroup(time, (int)Math.Min(int.MaxValue, commitAt - head));
                    foreach (var row in rows)
                    {
                        object?[] values = [row.TableName, row.Operation, row.RecordKey, row.OldValues, row.NewValues, row.ChangedColumns, row.EventName, row.Target,
                            row.Metadata, row.Tenant, row.ActorId, row.ActorName, row.CapturedAtUtc];
                        for (var i = 0; i < values.Length; i++)
                        {
                            parameters[i].Value = values[i] ?? DBNull.Value;
                        }

                        await insert.ExecuteNonQueryAsync();
                    }

                    // No context: a write from outside the app, sealed out-of-band with the actor unknown.
                    head += sealer.Seal(connection, transaction, context is null ? AuditSealer.SealEverythingAsOutOfBand : 0, context ?? AuditContext.ForJob("unused"), Guid.NewGuid().ToString("N"));
                }

                await transaction.CommitAsync();
            }

            await using (var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(job, time)))
            {
                var checkpoint = await AuditCheckpoints.SignAsync(db, key, sink, time)
                    ?? throw new InvalidOperationException($"No checkpoint was signed at seq {head}.");
                head = checkpoint.Seq + 1; // its audit.checkpoint_signed event
            }

            Console.WriteLine($"  {head:N0} entries, checkpoint signed; {watch.Elapsed.TotalSeconds:F0} s");
        }

        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            var report = await db.VerifyAuditChainAsync();
            if (!report.IsValid || report.Chain.LastSeq != Entries)
            {
                throw new InvalidOperationException("The store just built does not verify: " + report.Describe());
            }
        }

        await using (var checkpointCommand = connection.CreateCommand())
        {
            checkpointCommand.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            await checkpointCommand.ExecuteNonQueryAsync();
        }

        await File.WriteAllTextAsync(marker, Entries.ToString(CultureInfo.InvariantCulture));
        Console.WriteLine($"Built and verified in {watch.Elapsed.TotalSeconds:F0} s.");
    }

    /// <summary>(c): the SELECT stepped through SQLite's API on the provider's connection; each column's value is reached
    /// (integers read, the length of every text taken, which makes SQLite load its bytes) and nothing is built.</summary>
    private static long StepRaw(DatabaseSettings settings)
    {
        using var connection = new SqliteConnection(settings.ConnectionString);
        connection.Open();
        var handle = connection.Handle!;
        var rc = raw.sqlite3_prepare_v2(handle, SelectSql, out sqlite3_stmt statement);
        SqliteException.ThrowExceptionForRC(rc, handle);
        using (statement)
        {
            var (rows, touched) = (0L, 0L);
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                rows++;
                touched += raw.sqlite3_column_int64(statement, 0) + raw.sqlite3_column_int64(statement, 1) + raw.sqlite3_column_int64(statement, 14);
                for (var i = 2; i < Columns.Length; i++)
                {
                    if (i != 14)
                    {
                        touched += raw.sqlite3_column_blob(statement, i).Length;
                    }
                }
            }

            if (rc != raw.SQLITE_DONE || touched == 0)
            {
                SqliteException.ThrowExceptionForRC(rc, handle);
            }

            return rows;
        }
    }

    /// <summary>
    /// (e), what would close part of the gap: the entries read through SQLite's API (UTF-8 straight to strings, no
    /// per-column checks of the ADO.NET reader), on this thread, while the previous batch is hashed by AddBatch.
    /// </summary>
    private static async Task<long> PipelinedAsync(DatabaseSettings settings)
    {
        var channel = System.Threading.Channels.Channel.CreateBounded<List<AuditEntry>>(2);
        var verifier = new HashChainVerifier();
        var hashing = Task.Run(async () =>
        {
            await foreach (var batch in channel.Reader.ReadAllAsync())
            {
                verifier.AddBatch(batch);
            }
        });

        using (var connection = new SqliteConnection(settings.ConnectionString))
        {
            connection.Open();
            var handle = connection.Handle!;
            var rc = raw.sqlite3_prepare_v2(handle, SelectSql, out sqlite3_stmt statement);
            SqliteException.ThrowExceptionForRC(rc, handle);
            using (statement)
            {
                string? S(int i) => raw.sqlite3_column_type(statement, i) == raw.SQLITE_NULL ? null : Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, i));
                var batch = new List<AuditEntry>(HashChainVerifier.DefaultBatchSize);
                while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
                {
                    batch.Add(new AuditEntry
                    {
                        Seq = raw.sqlite3_column_int64(statement, 0), Version = raw.sqlite3_column_int(statement, 1),
                        OccurredAtUtc = DateTime.Parse(S(2)!, CultureInfo.InvariantCulture), Operation = S(3)!,
                        EventName = S(4), TableName = S(5), RecordKey = S(6), OldValues = S(7), NewValues = S(8), ChangedColumns = S(9),
                        ActorId = S(10), ActorName = S(11), ActorRoles = S(12), Origin = S(13)!, OutOfBand = raw.sqlite3_column_int64(statement, 14) != 0,
                        CorrelationId = S(15), TransactionId = S(16), IpAddress = S(17), UserAgent = S(18), Tenant = S(19), Target = S(20), Metadata = S(21),
                        PayloadHash = S(22)!, RowHash = S(23)!,
                    });
                    if (batch.Count == HashChainVerifier.DefaultBatchSize)
                    {
                        await channel.Writer.WriteAsync(batch);
                        batch = new List<AuditEntry>(HashChainVerifier.DefaultBatchSize);
                    }
                }

                if (rc != raw.SQLITE_DONE)
                {
                    SqliteException.ThrowExceptionForRC(rc, handle);
                }

                if (batch.Count > 0)
                {
                    await channel.Writer.WriteAsync(batch);
                }
            }
        }

        channel.Writer.Complete();
        await hashing;
        var result = verifier.Result();
        return result.IsValid ? result.EntriesChecked : throw new InvalidOperationException("The prototype does not verify: " + result.Describe());
    }

    /// <summary>(c'): the read of AuditTrailExtensions.ReadEntriesAsync, copied (it is private): the provider's reader, batches of 4096.</summary>
    private static async IAsyncEnumerable<List<AuditEntry>> ReadAsync(DbConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = SelectSql;
        await using var reader = await command.ExecuteReaderAsync();
        string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
        var batch = new List<AuditEntry>(HashChainVerifier.DefaultBatchSize);
        while (await reader.ReadAsync())
        {
            batch.Add(new AuditEntry
            {
                Seq = reader.GetInt64(0), Version = reader.GetInt32(1), OccurredAtUtc = reader.GetDateTime(2), Operation = reader.GetString(3),
                EventName = S(4), TableName = S(5), RecordKey = S(6), OldValues = S(7), NewValues = S(8), ChangedColumns = S(9),
                ActorId = S(10), ActorName = S(11), ActorRoles = S(12), Origin = reader.GetString(13), OutOfBand = reader.GetBoolean(14),
                CorrelationId = S(15), TransactionId = S(16), IpAddress = S(17), UserAgent = S(18), Tenant = S(19), Target = S(20), Metadata = S(21),
                PayloadHash = reader.GetString(22), RowHash = reader.GetString(23),
            });
            if (batch.Count == HashChainVerifier.DefaultBatchSize)
            {
                yield return batch;
                batch = new List<AuditEntry>(HashChainVerifier.DefaultBatchSize);
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    internal sealed class SimulatedTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>A pending row exactly as the SQLite capture triggers (ChangedOnly mode) or RecordAuditEventAsync write it.</summary>
    private sealed record Pending(string? TableName, string Operation, string? RecordKey, string? OldValues, string? NewValues, string? ChangedColumns,
        string? EventName, string? Target, string? Metadata, string? Tenant, string? ActorId, string? ActorName, string CapturedAtUtc);

    /// <summary>
    /// Groups of changes as the console makes them: a web request or job (1-12 rows, now and then a bulk update of a few
    /// hundred), an event (login, export), or an out-of-band write; 40 users with roles, origins, correlation ids, IPs and
    /// user agents; values 200-400 bytes of JSON with redacted columns, as the triggers write them.
    /// </summary>
    private sealed class EntryGenerator(Random random)
    {
        private static readonly string[] RoleSets = ["Operator", "Operator,Reviewer", "Reviewer", "Admin", "Auditor"];
        private static readonly string[] FirstNames = ["anna", "ben", "clara", "deniz", "elena", "farid", "greta", "hugo", "ines", "jonas"];
        private static readonly string[] LastNames = ["schmidt", "müller", "rossi", "dubois", "nowak", "garcia"];
        private static readonly string[] Cities = ["10115 Berlin", "80331 München", "20095 Hamburg", "1010 Wien", "8001 Zürich", "75001 Paris", "20121 Milano"];
        private static readonly string[] Streets = ["Hauptstraße", "Bahnhofstraße", "Lindenallee", "Rue de Rivoli", "Via Roma", "Königsweg"];
        private static readonly string[] Companies = ["Müller & Söhne GmbH", "ACME Logistics SE", "Nordwind Energie AG", "Café Größenwahn KG", "Rossi Import S.r.l.", "Dubois Frères SA"];
        private static readonly string[] UserAgents =
        [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        ];

        private readonly (AuditActor Actor, string Ip, string UserAgent)[] _users = Enumerable.Range(0, 40).Select(i =>
        {
            var name = $"{FirstNames[i % FirstNames.Length]}.{LastNames[i % LastNames.Length]}{(i >= 30 ? i.ToString(CultureInfo.InvariantCulture) : "")}@bank.example";
            var id = new Guid(i + 1, (short)i, (short)(i * 7), [1, 2, 3, 4, 5, 6, 7, (byte)i]).ToString();
            return (new AuditActor(id, name, RoleSets[i % RoleSets.Length].Split(',')), $"10.20.{i % 7}.{10 + i}", UserAgents[i % UserAgents.Length]);
        }).ToArray();

        private long _nextCustomer = 1, _nextPayment = 1, _nextDocument = 1;

        /// <summary>The next group, advancing the clock; a null context means an out-of-band write.</summary>
        public (AuditContext? Context, List<Pending> Rows) NextGroup(SimulatedTime time, int max)
        {
            time.Now = time.Now.AddSeconds(random.Next(1, 60));
            var captured = time.Now.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
            var (actor, ip, agent) = _users[random.Next(_users.Length)];
            var tenant = random.Next(10) == 0 ? "emea" : null;
            var kind = random.Next(100);
            AuditContext? context;
            int count;
            if (kind < 3)
            {
                context = null; // a DBA's fix in the sqlite3 shell
                count = random.Next(1, 4);
            }
            else if (kind < 5)
            {
                context = new AuditContext(AuditActor.System("sanctions-rescreen"), "job:sanctions-rescreen", Guid.NewGuid().ToString("N"));
                count = random.Next(20, 200); // a bulk update by a job
            }
            else
            {
                var page = random.Next(6) switch
                {
                    0 => $"page:/customers/{random.Next(1, 50_000)}/edit",
                    1 => $"page:/payments/{random.Next(1, 200_000)}",
                    2 => "api:POST /api/payments",
                    3 => $"page:/accounts/{Guid.NewGuid():D}",
                    4 => $"page:/documents/{random.Next(1, 80_000)}/edit",
                    _ => "page:/payments/approve",
                };
                context = new AuditContext(actor, page, Guid.NewGuid().ToString("N"), ip, agent, tenant);
                count = random.Next(1, 13);
            }

            var rows = new List<Pending>(count);
            for (var i = 0; i < Math.Min(count, max); i++)
            {
                rows.Add(kind >= 5 && random.Next(20) == 0 ? Event(actor, captured, tenant) : Change(kind is >= 3 and < 5, captured, context is null ? null : tenant));
            }

            return (context, rows);
        }

        private Pending Event(AuditActor actor, string captured, string? tenant)
        {
            var (name, target, metadata) = random.Next(4) switch
            {
                0 => (AuditEventNames.LoginSucceeded, "user:" + actor.Id, $"{{\"method\":\"password\",\"remember\":\"{(random.Next(2) == 0 ? "true" : "false")}\"}}"),
                1 => ("report.exported", "report:payments", $"{{\"format\":\"csv\",\"from\":\"2025-0{random.Next(1, 10)}-01\",\"rows\":\"{random.Next(10, 90_000)}\"}}"),
                2 => ("customer.viewed", $"customer:{random.Next(1, 50_000)}", "{\"section\":\"kyc\"}"),
                _ => (AuditEventNames.Logout, "user:" + actor.Id, null),
            };
            return new Pending(null, AuditOperations.Event, null, null, null, null, name, target, metadata, tenant, null, null, captured);
        }

        private Pending Change(bool bulk, string captured, string? tenant)
        {
            var roll = random.Next(100);
            var operation = bulk || roll < 60 ? AuditOperations.Update : roll < 88 ? AuditOperations.Insert : AuditOperations.Delete;
            var table = bulk ? "Customers" : random.Next(4) switch { 0 => "Customers", 1 => "Payments", 2 => "Accounts", _ => "Documents" };
            var id = table switch
            {
                "Customers" => operation == AuditOperations.Insert ? _nextCustomer++ : 1 + random.NextInt64(_nextCustomer),
                "Payments" => operation == AuditOperations.Insert ? _nextPayment++ : 1 + random.NextInt64(_nextPayment),
                "Documents" => operation == AuditOperations.Insert ? _nextDocument++ : 1 + random.NextInt64(_nextDocument),
                _ => 0,
            };
            var key = table == "Accounts" ? $"{{\"Id\":\"{Guid.NewGuid():D}\"}}" : $"{{\"Id\":{id}}}";
            var full = Row(table, id);
            if (operation == AuditOperations.Insert)
            {
                return new Pending(table, operation, key, null, full, null, null, null, null, tenant, null, null, captured);
            }

            if (operation == AuditOperations.Delete)
            {
                return new Pending(table, operation, key, full, null, null, null, null, null, tenant, null, null, captured);
            }

            // ChangedOnly: both sides hold the changed columns only; a changed redacted column shows as changed, without its value.
            var (old, @new, changed) = table switch
            {
                "Customers" => (
                    $"{{\"Address\":\"{Street()}, {City()}\",\"Phone\":\"{AuditRedaction.Placeholder}\",\"RiskRating\":\"low\",\"Notes\":\"{Text(100, 200)}\"}}",
                    $"{{\"Address\":\"{Street()}, {City()}\",\"Phone\":\"{AuditRedaction.ChangedPlaceholder}\",\"RiskRating\":\"{(random.Next(2) == 0 ? "medium" : "high")}\",\"Notes\":\"{Text(100, 200)}\"}}",
                    "[\"Address\",\"Phone\",\"RiskRating\",\"Notes\"]"),
                "Payments" => (
                    $"{{\"Amount\":{random.Next(1, 90_000)}.{random.Next(100):D2},\"Status\":\"pending\",\"Reference\":\"Invoice 2025-{random.Next(1, 9999):D4} / order {id}\",\"ApprovedBy\":null,\"Note\":\"{Text(90, 190)}\"}}",
                    $"{{\"Amount\":{random.Next(1, 90_000)}.{random.Next(100):D2},\"Status\":\"approved\",\"Reference\":\"Invoice 2025-{random.Next(1, 9999):D4} / order {id}\",\"ApprovedBy\":\"{_users[random.Next(_users.Length)].Actor.Name}\",\"Note\":\"{Text(90, 190)}\"}}",
                    "[\"Amount\",\"Status\",\"Reference\",\"ApprovedBy\",\"Note\"]"),
                "Accounts" => (
                    $"{{\"Status\":\"open\",\"Limit\":\"{random.Next(1, 100) * 1000}.00\",\"Purpose\":\"{Text(150, 300)}\"}}",
                    $"{{\"Status\":\"{(random.Next(2) == 0 ? "frozen" : "closed")}\",\"Limit\":\"{random.Next(1, 100) * 1000}.00\",\"Purpose\":\"{Text(150, 300)}\"}}",
                    "[\"Status\",\"Limit\",\"Purpose\"]"),
                _ => (
                    $"{{\"Title\":\"{Text(40, 80)}\",\"Kind\":\"kyc\",\"Description\":\"{Text(140, 260)}\"}}",
                    $"{{\"Title\":\"{Text(40, 80)}\",\"Kind\":\"contract\",\"Description\":\"{Text(140, 260)}\"}}",
                    "[\"Title\",\"Kind\",\"Description\"]"),
            };
            return new Pending(table, operation, key, old, @new, changed, null, null, null, tenant, null, null, captured);
        }

        /// <summary>A whole row as the insert and delete triggers write it (json_object in column order, redacted columns as placeholders).</summary>
        private string Row(string table, long id) => table switch
        {
            "Customers" => $"{{\"Id\":{id},\"Name\":\"{Companies[random.Next(Companies.Length)]}\",\"Email\":\"contact{id}@example.de\",\"Phone\":\"{AuditRedaction.Placeholder}\","
                + $"\"DateOfBirth\":\"{AuditRedaction.Placeholder}\",\"Address\":\"{Street()}, {City()}\",\"Country\":\"DE\",\"RiskRating\":\"low\",\"CreatedAt\":\"2025-01-0{random.Next(1, 10)} 09:12:44+00:00\",\"Notes\":\"{Text(40, 160)}\"}}",
            "Payments" => $"{{\"Id\":{id},\"AccountId\":\"{Guid.NewGuid():D}\",\"Amount\":{random.Next(1, 90_000)}.{random.Next(100):D2},\"Currency\":\"EUR\",\"Reference\":\"Invoice 2025-{random.Next(1, 9999):D4} / order {id}\","
                + $"\"Beneficiary\":\"{Companies[random.Next(Companies.Length)]}\",\"BeneficiaryIban\":\"{AuditRedaction.Placeholder}\",\"Status\":\"pending\",\"CreatedAt\":\"2025-02-1{random.Next(10)} 14:03:11+00:00\",\"Note\":\"{Text(40, 150)}\"}}",
            "Accounts" => $"{{\"Id\":\"{Guid.NewGuid():D}\",\"CustomerId\":{1 + random.NextInt64(_nextCustomer)},\"Iban\":\"DE89 3704 0044 0532 0{random.Next(1000, 9999)} 00\",\"Currency\":\"EUR\","
                + $"\"Status\":\"open\",\"OpenedAt\":\"2025-03-0{random.Next(1, 10)} 08:00:00+00:00\",\"Limit\":\"{random.Next(1, 100) * 1000}.00\",\"Purpose\":\"{Text(70, 190)}\"}}",
            _ => $"{{\"Id\":{id},\"CustomerId\":{1 + random.NextInt64(_nextCustomer)},\"Kind\":\"kyc\",\"Title\":\"{Text(20, 60)}\",\"FileName\":\"scan-{id}.pdf\","
                + $"\"Checksum\":\"{Convert.ToHexStringLower(BitConverter.GetBytes(random.NextInt64()))}{new string('0', 48)}\",\"UploadedAt\":\"2025-04-1{random.Next(10)} 16:45:00+00:00\",\"Description\":\"{Text(50, 160)}\"}}",
        };

        private string Street() => $"{Streets[random.Next(Streets.Length)]} {random.Next(1, 200)}";

        private string City() => Cities[random.Next(Cities.Length)];

        /// <summary>Free text of min-max characters, with a few non-ASCII letters.</summary>
        private string Text(int min, int max)
        {
            const string words = "Zahlung geprüft, Rückfrage beim Kunden (dringend): Übertrag & KYC-Prüfung abgeschlossen; pièce jointe reçue, contratto firmato. ";
            var length = random.Next(min, max);
            var start = random.Next(words.Length - 20);
            var sb = new StringBuilder(length + 2);
            while (sb.Length < length)
            {
                sb.Append(words, start, Math.Min(words.Length - start, length - sb.Length));
                start = 0;
            }

            return sb.ToString();
        }
    }
}

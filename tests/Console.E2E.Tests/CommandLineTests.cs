using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace ComplianceConsole.E2E.Tests;

/// <summary>The console's command-line verbs, run as a person would run them.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"cc-cli-{Guid.NewGuid():N}.db");

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) => RunAsync(new Dictionary<string, string>(), args);

    private async Task<(int ExitCode, string Output)> RunAsync(Dictionary<string, string> environment, params string[] args)
    {
        var start = ConsoleServer.ConsoleProcess(_database, args);
        start.Environment["Seed__Days"] = "3";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task Verify_passes_on_a_seeded_store_and_names_the_first_broken_entry_after_tampering()
    {
        var seed = await RunAsync("seed");
        Assert.True(seed.ExitCode == 0, seed.Output);
        Assert.Contains("First sign-in: admin@console.local", seed.Output);

        var clean = await RunAsync("verify");
        Assert.Equal(0, clean.ExitCode);
        Assert.Matches(@"OK: \d+ entries verified", clean.Output);

        await using (var connection = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            // Someone with file access removes the guard and rewrites who did something.
            tamper.CommandText = "DROP TRIGGER audit_entries_refuse_update; UPDATE AuditEntries SET ActorName = 'nobody' WHERE Seq = 40;";
            await tamper.ExecuteNonQueryAsync();
        }

        var broken = await RunAsync("verify");
        Assert.Equal(1, broken.ExitCode);
        Assert.Contains("BROKEN at seq 40", broken.Output);
    }

    [Fact]
    public async Task Export_writes_a_search_with_a_signed_manifest_that_verify_export_checks_and_a_changed_byte_fails()
    {
        Assert.Equal(0, (await RunAsync("seed")).ExitCode);
        var folder = Directory.CreateTempSubdirectory("cc-cli-export-");
        var csv = Path.Combine(folder.FullName, "payments.csv");
        var export = await RunAsync("export", "--format", "csv", "--query", "table:Payments op:update", "--range", "90d", "--out", csv, "--as", "olivia.officer@console.local", "--reason", "request 4711");
        Assert.True(export.ExitCode == 0, export.Output);
        Assert.Matches(@"Exported \d+ entries", export.Output);

        var rows = File.ReadAllLines(csv).Length - 1;
        await using (var connection = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT count(*) FROM AuditEntries WHERE TableName = 'Payments' AND Operation = 'update'";
            Assert.Equal((long)rows, (long)(await count.ExecuteScalarAsync())!); // the seed's updates fit in 90 days, one line each
            count.CommandText = "SELECT ActorName || '|' || Metadata FROM AuditEntries WHERE EventName = 'audit.exported' ORDER BY Seq DESC LIMIT 1";
            var recorded = (string)(await count.ExecuteScalarAsync())!;
            Assert.StartsWith("olivia.officer@console.local|", recorded);
            Assert.Contains("request 4711", recorded);
        }

        var verified = await RunAsync("verify-export", csv);
        Assert.True(verified.ExitCode == 0, verified.Output);
        Assert.Contains($"OK: {csv} is the export signed with key", verified.Output);
        Assert.Contains($"Each row checked against its canonical form: {rows:N0} rows, their payload and row hashes and every cell.", verified.Output);

        var text = await File.ReadAllTextAsync(csv);
        await File.WriteAllTextAsync(csv, text.Replace("update", "upd4te"), new System.Text.UTF8Encoding(true));
        var edited = await RunAsync("verify-export", csv);
        Assert.Equal(1, edited.ExitCode);
        Assert.Contains("It was changed after it left the console", edited.Output);

        var bad = await RunAsync("export", "--format", "csv", "--query", "acter:x", "--out", csv);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("did you mean actor:x", bad.Output);
        var nowhere = await RunAsync("export", "--format", "xlsx", "--out", Path.Combine(folder.FullName, "missing", "x.xlsx"));
        Assert.Equal(2, nowhere.ExitCode);
        Assert.Contains("does not exist", nowhere.Output);
        folder.Delete(recursive: true);
    }

    [Fact]
    public async Task Reconcile_passes_on_a_seeded_store_and_lists_the_rows_changed_without_capture()
    {
        var missing = await RunAsync("reconcile");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("There is no database at", missing.Output);
        Assert.False(File.Exists(_database));

        var seed = await RunAsync("seed");
        Assert.True(seed.ExitCode == 0, seed.Output);
        var clean = await RunAsync("reconcile");
        Assert.True(clean.ExitCode == 0, clean.Output);
        Assert.Contains("every live row matches the trail", clean.Output);

        await using (var connection = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT sql FROM sqlite_master WHERE name = 'audit_capture_Customers_update'";
            var trigger = (string)(await read.ExecuteScalarAsync())!;
            await using var bypass = connection.CreateCommand();
            // Someone with file access takes the trigger away, renames a customer, and puts the trigger back as it was.
            bypass.CommandText = $"DROP TRIGGER audit_capture_Customers_update; UPDATE Customers SET Name = 'Nobody Saw This' WHERE Id = 3; {trigger};";
            await bypass.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, (await RunAsync("verify")).ExitCode); // the chain itself is whole
        var found = await RunAsync("reconcile", "--table", "Customers");
        Assert.Equal(1, found.ExitCode);
        Assert.Contains("Customers {\"Id\":3}: Name differs from the trail", found.Output);
        Assert.Contains("recorded as audit.reconcile_mismatch", found.Output);

        var unknown = await RunAsync("reconcile", "--table", "NoSuchTable");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("is not an audited table", unknown.Output);
    }

    [Fact]
    public async Task Verify_is_read_only_strict_about_what_it_opens_and_checks_the_triggers()
    {
        var missing = await RunAsync("verify");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("there is no database at", missing.Output);
        Assert.False(File.Exists(_database)); // nothing created, nothing migrated

        await File.WriteAllTextAsync(_database, "not a database");
        var garbage = await RunAsync("verify");
        Assert.Equal(2, garbage.ExitCode);
        Assert.Contains("is not a Compliance Console database", garbage.Output);
        File.Delete(_database);

        Assert.Equal(0, (await RunAsync("seed")).ExitCode);
        SqliteConnection.ClearAllPools();
        // An auditor's copy: the file alone, read-only; verify leaves nothing beside it.
        var folder = Directory.CreateTempSubdirectory("cc-copy-");
        var copy = Path.Combine(folder.FullName, "handed-over.db");
        File.Copy(_database, copy);
        File.SetAttributes(copy, FileAttributes.ReadOnly);
        var bytes = await File.ReadAllBytesAsync(copy);
        var ok = await RunAsync("verify", "--database", copy);
        Assert.True(ok.ExitCode == 0, ok.Output);
        Assert.Equal([copy], Directory.GetFiles(folder.FullName));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(copy));

        await using (var connection = new SqliteConnection($"Data Source={_database};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TRIGGER audit_capture_Customers_update; SELECT count(*) FROM AuditEntries;";
            var entries = Convert.ToInt64(await drop.ExecuteScalarAsync());
            var tampered = await RunAsync("verify");
            Assert.Equal(1, tampered.ExitCode);
            Assert.Contains("trigger audit_capture_Customers_update (ComplianceConsole) is missing", tampered.Output);
            drop.CommandText = "SELECT count(*) FROM AuditEntries; SELECT count(*) FROM sqlite_master WHERE name = 'audit_capture_Customers_update';";
            Assert.Equal(entries, Convert.ToInt64(await drop.ExecuteScalarAsync())); // verify wrote no event and restored nothing
        }

        File.SetAttributes(copy, FileAttributes.Normal);
        folder.Delete(recursive: true);
    }

    [Theory]
    [InlineData("verfy", 2, "Unknown verb 'verfy'. Did you mean 'verify'?")]
    [InlineData("--help", 0, "remove-capture --table TABLE --reason TEXT")]
    [InlineData("help", 0, "verify [--database FILE]")]
    public async Task Unknown_verbs_list_the_verbs_and_never_start_the_server(string verb, int exitCode, string expected)
    {
        var (code, output) = await RunAsync(verb);
        Assert.Equal(exitCode, code);
        Assert.Contains(expected, output);
        Assert.Contains("seed", output);
        Assert.DoesNotContain("Now listening", output);
        Assert.False(File.Exists(_database));
    }

    [Fact]
    public async Task A_bad_provider_setting_stops_start_up_with_a_message_that_says_what_to_write()
    {
        var (exitCode, output) = await RunAsync(new Dictionary<string, string> { ["Database__Provider"] = "Oracle" });
        Assert.Equal(2, exitCode);
        Assert.Contains("Compliance Console did not start: Database:Provider is \"Oracle\". Set it to Sqlite", output);
        Assert.DoesNotContain("   at ", output); // no stack trace
        Assert.False(File.Exists(_database));
    }

    [Fact]
    public async Task Verify_archive_names_what_is_missing_and_exits_2()
    {
        var key = Path.Combine(Path.GetTempPath(), $"cc-cli-{Guid.NewGuid():N}.pub.pem");
        await File.WriteAllTextAsync(key, "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
        try
        {
            var none = await RunAsync("verify-archive", "/nonexistent/purge-x", "--public-key", key);
            Assert.Equal(2, none.ExitCode);
            Assert.Contains("is not a folder: give the folder of one purge run", none.Output);
            var empty = Directory.CreateTempSubdirectory("cc-cli-archive-");
            var unfinished = await RunAsync("verify-archive", empty.FullName, "--public-key", key);
            Assert.Equal(2, unfinished.ExitCode);
            Assert.Contains("has no manifest.json: it is not a finished archive", unfinished.Output);
            empty.Delete();
            var usage = await RunAsync("verify-archive");
            Assert.Equal(2, usage.ExitCode);
            Assert.Contains("verify-archive needs the folder of one purge run first", usage.Output);
        }
        finally
        {
            File.Delete(key);
        }
    }

    [Theory]
    [InlineData("Retention__Schedule", "every night", "Retention:Schedule \"every night\" is not a Quartz cron expression")]
    [InlineData("Retention__Floors__0__Days", "0", "each floor needs a Scope")]
    [InlineData("Retention__DeleteBatch", "0", "Retention:DeleteBatch is 0: write a number of entries per delete transaction")]
    public async Task A_bad_retention_setting_stops_start_up_with_what_to_write(string key, string value, string expected)
    {
        var (exitCode, output) = await RunAsync(new Dictionary<string, string> { [key] = value });
        Assert.Equal(2, exitCode);
        Assert.Contains("Compliance Console did not start: ", output);
        Assert.Contains(expected, output);
        Assert.DoesNotContain("   at ", output);
        Assert.False(File.Exists(_database));
    }

    [Fact]
    public async Task Install_capture_is_the_deploy_step_it_installs_once_and_writes_a_script_for_sqlcmd()
    {
        var first = await RunAsync("install-capture");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Matches(@"Installed capture: \d+ trigger\(s\) created", first.Output);
        Assert.Contains("Recorded in the chain as audit.capture_changed", first.Output);

        var again = await RunAsync("install-capture");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("Capture was already installed as the policy says: nothing to change.", again.Output);

        var verify = await RunAsync("verify");
        Assert.True(verify.ExitCode == 0, verify.Output); // the install is in the chain, and the chain is whole

        var script = Path.Combine(Path.GetTempPath(), $"cc-cli-{Guid.NewGuid():N}.sql");
        try
        {
            var written = await RunAsync("install-capture", "--script", script);
            Assert.True(written.ExitCode == 0, written.Output);
            Assert.Contains("run it with sqlcmd -b -i", written.Output);
            var text = await File.ReadAllTextAsync(script);
            Assert.Contains("CREATE TRIGGER [dbo].[audit_capture_Customers]", text);
            Assert.Contains("CREATE ROLE [cc_audit_writer]", text);
            Assert.Contains("CREATE TABLE QRTZ_LOCKS", text); // the scheduler's tables: the runtime login may not create them
            Assert.False(File.Exists(script + ".tmp"));
        }
        finally
        {
            File.Delete(script);
        }

        var sqlite = await RunAsync("install-capture", "--partition-monthly");
        Assert.Equal(2, sqlite.ExitCode);
        Assert.Contains("--partition-monthly is for SQL Server", sqlite.Output);

        var usage = await RunAsync("install-capture", "--scirpt", "x.sql");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("'install-capture' has no option '--scirpt'. Its options: --script, --partition-monthly.", usage.Output);

        // A script path in a folder that is not there: what to do, no stack trace, nothing written.
        var nowhere = Path.Combine(Path.GetTempPath(), $"cc-missing-{Guid.NewGuid():N}", "deploy.sql");
        var refused = await RunAsync("install-capture", "--script", nowhere);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("does not exist. Create it, or give another --script.", refused.Output);
        Assert.DoesNotContain("   at ", refused.Output);
        Assert.False(Directory.Exists(Path.GetDirectoryName(nowhere)));
    }

    [Fact]
    public async Task A_bad_install_at_startup_setting_stops_start_up_with_what_to_write()
    {
        var (exitCode, output) = await RunAsync(new Dictionary<string, string>
        {
            ["Database__Provider"] = "SqlServer",
            ["Database__ConnectionString"] = "Server=127.0.0.1,1;Database=cc;Connect Timeout=3",
            ["Database__InstallAtStartup"] = "sometimes",
        });
        Assert.Equal(2, exitCode);
        Assert.Contains("Database:InstallAtStartup is \"sometimes\". Set it to false", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task An_unreachable_sql_server_stops_start_up_with_a_message_that_says_what_to_check()
    {
        var (exitCode, output) = await RunAsync(new Dictionary<string, string>
        {
            ["Database__Provider"] = "SqlServer",
            ["Database__ConnectionString"] = "Server=127.0.0.1,1;Database=cc;User Id=sa;Password=x;Connect Timeout=3;ConnectRetryCount=0;TrustServerCertificate=True",
        });
        Assert.Equal(2, exitCode);
        Assert.Contains("the database could not be opened or upgraded (Database:Provider=SqlServer", output);
        Assert.Contains("check that the server is reachable", output);
        Assert.DoesNotContain("   at ", output);
    }

    public void Dispose()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_database + suffix);
        }
    }
}

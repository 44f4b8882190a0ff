using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using ComplianceConsole.Web.Components.Pages.Audit;
using ComplianceConsole.Web.Components.Pages.Customers;
using ComplianceConsole.Web.Setup;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ComplianceConsole.Web.Tests;

/// <summary>What users and administrators see when the audit store cannot be written, or the trail is incomplete.</summary>
public sealed class AuditStoreFailureTests() : ConsoleComponentTest("oscar@example.test", "Operator")
{
    private Task BreakTheStoreAsync() => ExecuteAsync("CREATE TRIGGER test_break_store BEFORE INSERT ON AuditEntries BEGIN SELECT RAISE(ABORT, 'store is full'); END");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_save_that_cannot_be_audited_says_so_instead_of_blaming_the_input()
    {
        await BreakTheStoreAsync();
        var page = RenderPage<CustomerEdit>();
        page.Find("input[data-testid=name], [data-testid=name] input").Change("Zed Shaw");
        page.FindAll("input").First(i => i.GetAttribute("maxlength") == "256").Change("zed@example.test");
        await page.Find("[data-testid=save]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains(
            "The customer was not saved because the audit trail cannot be written; an administrator has been alerted.",
            page.Find("[data-testid=form-error]").TextContent));
        var error = page.Find("[data-testid=form-error]").TextContent;
        Assert.Contains("store is full", error);
        Assert.DoesNotContain("correct the input", error);
        await using var db = Db();
        Assert.Equal(0, await db.Customers.CountAsync());
    }

    [Fact]
    public async Task Health_is_degraded_after_a_reconciliation_finds_rows_changed_without_capture_until_a_clean_run()
    {
        var contexts = Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        var spool = Services.GetRequiredService<AuditSpool>();
        await using (var db = Db())
        {
            db.Tags.Add(new Tag { Name = "watched" });
            await db.SaveChangesAsync();
        }

        // A row changed with its capture trigger out of the way, the trigger put back as it was.
        string trigger;
        await using (var connection = new SqliteConnection(Settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var read = connection.CreateCommand();
            read.CommandText = "SELECT sql FROM sqlite_master WHERE name = 'audit_capture_Tags_update'";
            trigger = (string)(await read.ExecuteScalarAsync())!;
        }

        await ExecuteAsync($"DROP TRIGGER audit_capture_Tags_update; UPDATE Tags SET Name = 'unwatched' WHERE Name = 'watched'; {trigger};");
        Assert.Equal("Healthy", (await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default)).Status); // nothing can tell yet

        await using (var db = Db())
        {
            var report = await ComplianceConsole.Data.History.Reconciler.RunAsync(db, new AuditOptions());
            Assert.Equal(1, report.MismatchCount);
            await ComplianceConsole.Data.History.Reconciler.RecordAsync(db.Database, report, AuditContext.ForJob("reconcile"));
        }

        var health = await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default);
        Assert.Equal("Degraded", health.Status);
        Assert.Contains("1 row(s) that do not match the trail", health.Message);
        Assert.Contains("mismatches found", health.LastReconciliation);

        // Investigated and put right (here: the row set back as the trail has it); a clean run clears the signal.
        await ExecuteAsync("DROP TRIGGER audit_capture_Tags_update; UPDATE Tags SET Name = 'watched' WHERE Name = 'unwatched'; " + trigger + ";");
        await using (var db = Db())
        {
            var report = await ComplianceConsole.Data.History.Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(report.Clean);
            await ComplianceConsole.Data.History.Reconciler.RecordAsync(db.Database, report, AuditContext.ForJob("reconcile"));
        }

        health = await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default);
        Assert.Equal("Healthy", health.Status);
        Assert.Contains("every live row matched", health.LastReconciliation);
    }

    [Fact]
    public async Task Health_is_degraded_while_a_capture_trigger_is_missing_and_names_it_and_the_fix()
    {
        var contexts = Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        var spool = Services.GetRequiredService<AuditSpool>();
        var audit = new AuditOptions();
        var healthy = await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default, audit: audit);
        Assert.Equal("Healthy", healthy.Status);
        Assert.Empty(healthy.CaptureProblems!);

        await ExecuteAsync("DROP TRIGGER audit_capture_Payments_delete;");
        var health = await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default, audit: audit);
        Assert.Equal("Degraded", health.Status);
        Assert.Contains("Capture is not as deployed", health.Message);
        Assert.Contains(health.CaptureProblems!, p => p.StartsWith("trigger audit_capture_Payments_delete is missing", StringComparison.Ordinal) && p.Contains("install-capture"));

        // A policy in configuration that differs from the installed one is named too, without writing anything.
        await using (var db = Db())
        {
            await db.Database.InstallAuditCaptureAsync(audit, DatabaseInitializer.Owner); // a restart puts the trigger back
        }

        var changed = await HealthEndpoint.CheckAsync(contexts, spool, neverBlock: false, default, audit: new AuditOptions { ExcludedEntities = ["Tags"] });
        Assert.Equal("Degraded", changed.Status);
        Assert.Contains(changed.CaptureProblems!, p => p.Contains("not the one the chain recorded as installed"));
    }

    [Fact]
    public async Task Health_is_unhealthy_while_the_store_refuses_entries()
    {
        var contexts = Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        var healthy = await HealthEndpoint.CheckAsync(contexts, Services.GetRequiredService<AuditSpool>(), neverBlock: false, default);
        Assert.Equal("Healthy", healthy.Status);
        Assert.True(healthy.StoreWritable);

        await BreakTheStoreAsync();
        var broken = await HealthEndpoint.CheckAsync(contexts, Services.GetRequiredService<AuditSpool>(), neverBlock: false, default);
        Assert.Equal("Unhealthy", broken.Status);
        Assert.False(broken.StoreWritable);
        Assert.Contains("store is full", broken.StoreError);
        Assert.Contains("The audit trail cannot be written", broken.Message);
        Assert.Contains("Every change fails until this is fixed", broken.Message);
    }

    [Fact]
    public void The_audit_log_says_the_trail_is_incomplete_while_changes_wait_in_the_spool()
    {
        var clean = RenderPage<AuditLog>();
        clean.WaitForAssertion(() => Assert.NotEmpty(clean.FindAll("[data-testid=audit-grid] tbody tr")));
        Assert.Empty(clean.FindAll("[data-testid=trail-incomplete]"));

        var spool = Services.GetRequiredService<AuditSpool>();
        spool.Append(new SpoolRecord("tx-1", DateTime.UtcNow, AuditContext.ForJob("test"),
            [new SpooledRow("Tags", "insert", "1", null, """{"Name":"late"}""", null, null, null, null, null, null, null, "2026-01-01 00:00:00")],
            "store is full"));
        var page = Render<AuditLog>(); // the popover provider is already there
        var banner = page.Find("[data-testid=trail-incomplete]").TextContent;
        Assert.Contains("incomplete", banner);
        Assert.Contains("1 audit entry from 1 committed change(s)", banner);
        Assert.Contains("store is full", banner);
    }

    [Fact]
    public async Task Sign_in_with_a_broken_store_is_refused_with_a_reason_and_no_cookie_not_a_500()
    {
        await using var services = IdentityServices();
        await using (var scope = services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
            var created = await users.CreateAsync(new ConsoleUser { UserName = "ana@example.test", Email = "ana@example.test" }, "Long-Passw0rd!");
            Assert.True(created.Succeeded, string.Join(" ", created.Errors.Select(e => e.Description)));
        }

        await BreakTheStoreAsync();
        await using (var scope = services.CreateAsyncScope())
        {
            var http = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            scope.ServiceProvider.GetRequiredService<IHttpContextAccessor>().HttpContext = http;
            var result = await AccountEndpoints.LoginAsync(new LoginForm("ana@example.test", "Long-Passw0rd!", "/customers"),
                scope.ServiceProvider.GetRequiredService<SignInManager<ConsoleUser>>(),
                scope.ServiceProvider.GetRequiredService<IDbContextFactory<ConsoleDbContext>>(),
                scope.ServiceProvider.GetRequiredService<ILoggerFactory>());

            var redirect = Assert.IsType<RedirectHttpResult>(result);
            Assert.StartsWith("/account/login?error=audit", redirect.Url);
            // No unaudited sign-in: the cookie issued before the event failed is taken back (the last Set-Cookie wins).
            var cookies = http.Response.Headers.SetCookie.Where(c => c!.StartsWith("ComplianceConsole=", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(cookies);
            Assert.Contains("expires=Thu, 01 Jan 1970", cookies[^1]);
        }

        await using var db = Db();
        Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.EventName == AuditEventNames.LoginSucceeded));
    }

    private ServiceProvider IdentityServices()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:ConnectionString"] = Settings.ConnectionString,
            ["Audit:SpoolPath"] = Services.GetRequiredService<AuditSpool>().Path,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddConsoleData(configuration, Path.GetTempPath());
        services.AddConsoleWeb(configuration);
        return services.BuildServiceProvider();
    }
}

using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Interceptors;
using ComplianceConsole.Web.Components.Pages.Audit;
using ComplianceConsole.Web.Setup;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

/// <summary>A trigger removed behind the console's back: start-up restores it, and the signal stays until an Admin acknowledges it.</summary>
public sealed class TamperSignalTests() : ConsoleComponentTest("ines@example.test", "Admin")
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using (var connection = new SqliteConnection(Settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "DROP TRIGGER audit_capture_Customers_update";
            await command.ExecuteNonQueryAsync();
        }

        await DatabaseInitializer.InitializeAsync(Settings, new AuditOptions()); // the next start-up
    }

    [Fact]
    public async Task Health_and_the_audit_log_show_the_restore_until_an_admin_acknowledges_it()
    {
        var contexts = Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>();
        var health = await HealthEndpoint.CheckAsync(contexts, Services.GetRequiredService<AuditSpool>(), neverBlock: false, default);
        Assert.Equal("Degraded", health.Status);
        Assert.Contains("audit_capture_Customers_update", Assert.Single(health.TamperSignals));

        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Contains("audit_capture_Customers_update", page.Find("[data-testid=capture-tampered]").TextContent));
        await page.Find("[data-testid=acknowledge-tamper]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=capture-tampered]")));

        health = await HealthEndpoint.CheckAsync(contexts, Services.GetRequiredService<AuditSpool>(), neverBlock: false, default);
        Assert.Equal("Healthy", health.Status);
        await using var db = Db();
        var ack = await db.AuditEntries.SingleAsync(e => e.EventName == AuditEventNames.TamperAcknowledged);
        Assert.Equal("u-ines@example.test", ack.ActorId);
    }
}

using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Auditing;
using ComplianceConsole.Web.Components.Pages.Integrity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

/// <summary>The integrity page's states over a real store: amber before any check, green after Verify now, red with the seq once an entry is altered.</summary>
public sealed class IntegrityPageTests : ConsoleComponentTest
{
    public IntegrityPageTests()
        : base("ines@example.test", "Admin", services =>
        {
            services.AddSingleton<BackgroundChecks>();
            services.AddScoped<WebAuditContextAccessor>();
        })
    {
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(Actor));
        db.Tags.AddRange(new Tag { Name = "alpha" }, new Tag { Name = "beta" });
        await db.SaveChangesAsync();
    }

    private static string Level(Bunit.IRenderedComponent<IntegrityPage> page, string key) =>
        page.Find($"[data-testid=integrity-item][data-key={key}]").GetAttribute("data-level")!;

    [Fact]
    public async Task Amber_before_any_check_green_after_verify_now_and_red_naming_the_seq_of_an_altered_entry()
    {
        var page = RenderPage<IntegrityPage>();
        page.WaitForAssertion(() => Assert.Equal(7, page.FindAll("[data-testid=integrity-item]").Count), TimeSpan.FromSeconds(10));
        Assert.Equal("amber", Level(page, "verification"));
        Assert.Contains("never been verified", page.Find("[data-testid=integrity-item][data-key=verification]").TextContent);
        Assert.Equal(("green", "green", "green"), (Level(page, "out-of-band"), Level(page, "spool"), Level(page, "triggers")));

        page.Find("[data-testid=start-verify]").Click();
        page.WaitForAssertion(() => Assert.Equal("green", Level(page, "verification")), TimeSpan.FromSeconds(20));
        Assert.Contains("the chain was whole up to seq", page.Find("[data-testid=integrity-item][data-key=verification]").TextContent);

        long seq;
        await using (var db = Db())
        {
            seq = await db.AuditEntries.Where(e => e.TableName == "Tags").MinAsync(e => e.Seq);
        }

        await using (var connection = new SqliteConnection(Settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var tamper = connection.CreateCommand();
            tamper.CommandText = $"DROP TRIGGER audit_entries_refuse_update; UPDATE AuditEntries SET NewValues = replace(replace(NewValues, 'alpha', 'omega'), 'beta', 'zeta') WHERE Seq = {seq}";
            Assert.True(await tamper.ExecuteNonQueryAsync() > 0);
        }

        page.Find("[data-testid=start-verify]").Click();
        page.WaitForAssertion(() => Assert.Equal("red", Level(page, "verification")), TimeSpan.FromSeconds(20));
        Assert.Contains($"found the chain broken at seq {seq}", page.Find("[data-testid=integrity-item][data-key=verification]").TextContent);
        Assert.Equal("red", page.Find("[data-testid=integrity-level]").GetAttribute("class")!.Split('-')[^1]);
    }
}

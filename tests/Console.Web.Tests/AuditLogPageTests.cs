using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Audit;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

public sealed class AuditLogPageTests : ConsoleComponentTest
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var bob = new AuditContextAccessor(new AuditContext(new AuditActor("u-bob", "bob@example.test", ["Operator"]), "page:/customers", "c1"));
        await using var db = ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(bob));
        db.Tags.AddRange(new Tag { Name = "alpha" }, new Tag { Name = "beta" });
        await db.SaveChangesAsync();
        await db.Tags.Where(t => t.Name == "beta").ExecuteDeleteAsync();
        await db.Database.RecordAuditEventAsync(new AuditEventRequest("report.exported", "Tags"));
    }

    private string[] RowTexts(IRenderedComponent<AuditLog> page) =>
        page.FindAll("[data-testid=audit-grid] tbody tr").Select(r => r.TextContent).ToArray();

    [Fact]
    public void Shows_the_trail_newest_first_with_actor_and_operation()
    {
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(6, RowTexts(page).Length)); // capture installed (policy and guards), 2 inserts, 1 delete, 1 event
        var rows = RowTexts(page);
        Assert.Contains("report.exported", rows[0]);
        Assert.Contains("delete", rows[1]);
        Assert.Contains("bob@example.test", rows[1]);
        Assert.Contains("Tags", rows[1]);
        Assert.Contains("audit.capture_changed", rows[4]);
    }

    [Fact]
    public void Filters_from_the_url_narrow_the_rows()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/audit?op=insert&actor=bob");
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Equal(2, RowTexts(page).Length));
        Assert.All(RowTexts(page), r => Assert.Contains("insert", r));
    }

    [Fact]
    public void A_bad_date_in_the_url_says_how_to_fix_it_and_shows_no_rows()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/audit?from=31-01-2026");
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Contains("use the form yyyy-MM-dd", page.Find("[data-testid=filter-problem]").TextContent));
        page.WaitForAssertion(() => Assert.Contains("No audit entries match", page.Markup));
    }

    [Fact]
    public void A_backwards_date_range_is_explained()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo("/audit?from=2026-02-01&to=2026-01-01");
        var page = RenderPage<AuditLog>();
        page.WaitForAssertion(() => Assert.Contains("runs backwards", page.Find("[data-testid=filter-problem]").TextContent));
    }
}

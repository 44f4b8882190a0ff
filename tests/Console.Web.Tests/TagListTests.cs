using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Tags;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Tests;

public sealed class TagListTests() : ConsoleComponentTest("petra@example.test", "Operator")
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        db.Customers.Add(new Customer { Name = "Ana", Email = "ana@example.test", Address = new() { Country = "PT" }, Tags = [new Tag { Name = "pep" }] });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_new_tag_is_added_and_audited_and_a_duplicate_name_is_refused_with_a_reason()
    {
        var page = RenderPage<TagList>();
        page.WaitForAssertion(() => Assert.Contains("pep", page.Find("[data-testid=tag-table]").TextContent));
        page.Find("input[data-testid=new-tag], [data-testid=new-tag] input").Input("sanctions-check");
        await page.Find("[data-testid=add-tag]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("sanctions-check", page.Find("[data-testid=tag-table]").TextContent));

        page.Find("input[data-testid=new-tag], [data-testid=new-tag] input").Input("PEP");
        await page.Find("[data-testid=add-tag]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("already exists", page.Find("[data-testid=form-error]").TextContent));

        await using var db = Db();
        Assert.Equal(["pep", "sanctions-check"], await db.Tags.OrderBy(t => t.Name).Select(t => t.Name).ToListAsync());
        var entry = await db.AuditEntries.SingleAsync(e => e.TableName == "Tags" && e.NewValues!.Contains("sanctions-check"));
        Assert.Equal(("insert", "petra@example.test"), (entry.Operation, entry.ActorName));
    }

    [Fact]
    public async Task Deleting_a_tag_in_use_removes_its_links_and_each_removal_is_audited()
    {
        var provider = Render<MudBlazor.MudDialogProvider>();
        var page = RenderPage<TagList>();
        page.WaitForAssertion(() => Assert.Contains("pep", page.Find("[data-testid=tag-table]").TextContent));
        await ClickAndConfirmAsync(page, provider, "[data-testid=delete]", "removed from 1 customer", "Delete");
        page.WaitForAssertion(() => Assert.Contains("No tags yet", page.Markup));

        await using var db = Db();
        Assert.Equal(0, await db.Tags.CountAsync());
        var deletes = await db.AuditEntries.Where(e => e.Operation == "delete").Select(e => e.TableName).ToListAsync();
        Assert.Equal(["CustomerTags", "Tags"], deletes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_tag_the_audit_trail_refuses_keeps_the_name_typed_so_it_can_be_saved_again()
    {
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(Settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "CREATE TRIGGER test_break_store BEFORE INSERT ON AuditEntries BEGIN SELECT RAISE(ABORT, 'disk full'); END";
            await command.ExecuteNonQueryAsync();
        }

        var page = RenderPage<TagList>();
        page.WaitForAssertion(() => Assert.Contains("pep", page.Find("[data-testid=tag-table]").TextContent));
        page.Find("input[data-testid=new-tag], [data-testid=new-tag] input").Input("sanctions-check");
        await page.Find("[data-testid=add-tag]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("audit trail cannot be written", page.Find("[data-testid=form-error]").TextContent));
        Assert.Equal("sanctions-check", page.Find("input[data-testid=new-tag], [data-testid=new-tag] input").GetAttribute("value"));
        await using var db = Db();
        Assert.Equal(["pep"], await db.Tags.Select(t => t.Name).ToListAsync());
    }
}

using System.Text.Json;
using ComplianceConsole.Web.Components.Pages.Customers;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Tests;

public sealed class CustomerFormTests() : ConsoleComponentTest("oscar@example.test", "Operator")
{
    [Fact]
    public async Task Saving_an_empty_form_shows_what_to_fill_in_and_saves_nothing()
    {
        var page = RenderPage<CustomerEdit>();
        await page.Find("[data-testid=save]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("Enter the customer's name.", page.Markup));
        Assert.Contains("Some fields need attention", page.Find("[data-testid=form-error]").TextContent);
        await using var db = Db();
        Assert.Equal(0, await db.Customers.CountAsync());
    }

    [Fact]
    public async Task A_new_customer_is_saved_and_audited_as_the_signed_in_user()
    {
        var page = RenderPage<CustomerEdit>();
        page.Find("input[data-testid=name], [data-testid=name] input").Change("Zed Shaw");
        page.FindAll("input").First(i => i.GetAttribute("maxlength") == "256").Change("zed@example.test");
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var db = Db();
        var customer = await db.Customers.SingleAsync();
        Assert.Equal("Zed Shaw", customer.Name);
        var entry = await db.AuditEntries.SingleAsync(e => e.TableName == "Customers");
        Assert.Equal("insert", entry.Operation);
        Assert.Equal("oscar@example.test", entry.ActorName);
        Assert.Equal("Zed Shaw", JsonDocument.Parse(entry.NewValues!).RootElement.GetProperty("Name").GetString());
    }

    [Fact]
    public async Task Editing_a_customer_that_was_deleted_meanwhile_says_so()
    {
        var page = RenderPage<CustomerEdit>(p => p.Add(c => c.Id, 4242));
        page.WaitForAssertion(() => Assert.Contains("does not exist", page.Markup));
        await using var db = Db();
        Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.TableName == "Customers"));
    }

    [Fact]
    public async Task Changing_a_customers_tags_records_each_link_added_and_removed()
    {
        int id;
        await using (var db = Db())
        {
            var vip = new ComplianceConsole.Data.Domain.Tag { Name = "vip" };
            db.Tags.AddRange(vip, new ComplianceConsole.Data.Domain.Tag { Name = "pep" });
            var customer = new ComplianceConsole.Data.Domain.Customer { Name = "Kay", Email = "kay@example.test", Tags = [vip], Address = new() { Country = "DE" } };
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            id = customer.Id;
        }

        var page = RenderPage<CustomerEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Contains("Kay", page.Find("input[data-testid=name], [data-testid=name] input").GetAttribute("value")));
        var select = page.FindComponent<MudBlazor.MudSelect<string>>();
        await page.InvokeAsync(() => select.Instance.SelectedValuesChanged.InvokeAsync(new HashSet<string> { "pep" }));
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var check = Db();
        // The setup above wrote without the audit trail: its link is there too, as out-of-band.
        var all = await check.AuditEntries.Where(e => e.TableName == "CustomerTags").OrderBy(e => e.Seq).ToListAsync();
        Assert.Single(all, l => l.OutOfBand);
        var links = all.Where(l => !l.OutOfBand).ToList();
        Assert.Equal(["delete", "insert"], links.Select(l => l.Operation).Order(StringComparer.Ordinal));
        Assert.All(links, l => Assert.Equal("oscar@example.test", l.ActorName));
        Assert.Equal(["pep"], (await check.Customers.Include(c => c.Tags).SingleAsync()).Tags.Select(t => t.Name));
    }
}

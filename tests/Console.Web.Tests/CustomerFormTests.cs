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
}

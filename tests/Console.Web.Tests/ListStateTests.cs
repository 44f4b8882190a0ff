using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Customers;
using ComplianceConsole.Web.Components.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

public sealed class ListStateTests() : ConsoleComponentTest("aurora@example.test", "Auditor")
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        db.Customers.Add(new Customer { Name = "Ada Lovelace", Email = "ada@example.test", Address = new() { City = "London", Country = "GB" } });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task A_search_that_matches_nothing_says_so_offers_to_clear_it_and_shows_no_empty_pager()
    {
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/customers?q=" + new string('z', 5000));
        var page = RenderPage<CustomerList>();
        page.WaitForAssertion(() => Assert.Contains("No customers match this search.", page.Markup));
        Assert.DoesNotContain("of 0", page.Markup);
        Assert.DoesNotContain(new string('z', 81), page.Find(".cc-echo").TextContent); // the echo is capped

        await page.Find("[data-testid=empty-action]").ClickAsync(new());
        Assert.DoesNotContain("q=", navigation.Uri);
        page.WaitForAssertion(() => Assert.Contains("Ada Lovelace", page.Markup));
    }

    [Fact]
    public void A_search_typed_becomes_a_new_history_entry_in_the_url()
    {
        var navigation = Services.GetRequiredService<NavigationManager>();
        navigation.NavigateTo("/customers");
        ListLoad.PushFilter(navigation, "q", "  ada ");
        Assert.EndsWith("/customers?q=ada", navigation.Uri);
        var history = Services.GetRequiredService<Bunit.TestDoubles.BunitNavigationManager>().History;
        Assert.False(history.First().Options.ReplaceHistoryEntry);
    }

    [Theory]
    [InlineData(1234.5, "EUR", "1,234.50\u00a0EUR")]
    [InlineData(-1234567.891, "USD", "-1,234,567.89\u00a0USD")]
    [InlineData(12.0, null, "12.00")]
    [InlineData(null, "EUR", "—")]
    public void Amounts_read_with_thousands_separators_two_decimals_and_the_currency(double? value, string? currency, string expected) =>
        Assert.Equal(expected, Amount.Format((decimal?)value, currency));
}

using System.Text.Json;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Accounts;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Tests;

public sealed class AccountListTests() : ConsoleComponentTest("petra@example.test", "Operator")
{
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        var customer = new Customer { Name = "Mo", Email = "mo@example.test", Address = new() { Country = "FR" } };
        db.Accounts.Add(new Account { Id = Guid.NewGuid(), Customer = customer, Iban = "FR7630006000011234567890189", OpenedAt = DateTimeOffset.UnixEpoch });
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task Freezing_an_account_after_confirming_records_the_status_change()
    {
        var provider = Render<MudBlazor.MudDialogProvider>();
        var page = RenderPage<AccountList>();
        page.WaitForAssertion(() => Assert.Contains("FR7630006000011234567890189", page.Markup));
        await ClickAndConfirmAsync(page, provider, "[data-testid=freeze]", "Freeze FR7630006000011234567890189 of Mo?", "Freeze");

        page.WaitForAssertion(() => Assert.Contains("Frozen", page.Markup));
        await using var db = Db();
        Assert.Equal(AccountStatus.Frozen, (await db.Accounts.SingleAsync()).Status);
        var entry = await db.AuditEntries.SingleAsync(e => e.TableName == "Accounts" && e.Operation == "update");
        Assert.Equal("petra@example.test", entry.ActorName);
        Assert.Equal("Open", JsonDocument.Parse(entry.OldValues!).RootElement.GetProperty("Status").GetString());
        Assert.Equal("Frozen", JsonDocument.Parse(entry.NewValues!).RootElement.GetProperty("Status").GetString());
    }
}

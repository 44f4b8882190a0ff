using System.Text.Json;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Payments;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Tests;

public sealed class PaymentFormTests() : ConsoleComponentTest("petra@example.test", "Operator")
{
    private long _paymentId;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        var customer = new Customer { Name = "Lin", Email = "lin@example.test", Address = new() { Country = "NL" } };
        var account = new Account { Id = Guid.NewGuid(), Customer = customer, Iban = "NL91ABNA0417164300", OpenedAt = DateTimeOffset.UnixEpoch };
        var payment = new Payment { Account = account, Amount = 120.50m, Reference = "INV-7", Beneficiary = "ACME", CreatedAt = DateTimeOffset.UnixEpoch };
        db.AddRange(customer, account, payment);
        await db.SaveChangesAsync();
        _paymentId = payment.Id;
    }

    [Fact]
    public async Task Settling_a_payment_records_the_status_change_by_the_signed_in_user()
    {
        var page = RenderPage<PaymentEdit>(p => p.Add(c => c.Id, _paymentId));
        page.WaitForAssertion(() => Assert.Equal("INV-7", page.Find("input[data-testid=reference], [data-testid=reference] input").GetAttribute("value")));
        var status = page.FindComponent<MudBlazor.MudSelect<PaymentStatus>>();
        await page.InvokeAsync(() => status.Instance.ValueChanged.InvokeAsync(PaymentStatus.Settled));
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var db = Db();
        var stored = await db.Payments.SingleAsync();
        Assert.Equal(PaymentStatus.Settled, stored.Status);
        Assert.NotNull(stored.SettledAt);
        var entry = await db.AuditEntries.SingleAsync(e => e.TableName == "Payments" && e.Operation == "update");
        Assert.Equal("petra@example.test", entry.ActorName);
        Assert.Equal(["SettledAt", "Status"], JsonSerializer.Deserialize<string[]>(entry.ChangedColumns!)!.Order(StringComparer.Ordinal));
        Assert.Equal("Pending", JsonDocument.Parse(entry.OldValues!).RootElement.GetProperty("Status").GetString());
        Assert.Equal("Settled", JsonDocument.Parse(entry.NewValues!).RootElement.GetProperty("Status").GetString());
    }

    [Fact]
    public async Task A_bad_currency_code_is_explained_and_nothing_is_saved()
    {
        var page = RenderPage<PaymentEdit>(p => p.Add(c => c.Id, _paymentId));
        page.WaitForAssertion(() => Assert.Equal("INV-7", page.Find("input[data-testid=reference], [data-testid=reference] input").GetAttribute("value")));
        page.FindAll("input").First(i => i.GetAttribute("maxlength") == "3").Change("E1");
        await page.Find("[data-testid=save]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("three-letter currency code", page.Markup));
        await using var db = Db();
        Assert.Equal("EUR", (await db.Payments.SingleAsync()).Currency.Code);
        Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.TableName == "Payments" && e.Operation == "update"));
    }
}

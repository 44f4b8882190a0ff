using System.Text.Json;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Accounts;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

public sealed class AccountFormTests() : ConsoleComponentTest("oscar@example.test", "Operator")
{
    private int _owner;
    private int _partner;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        var owner = new Customer { Name = "Noor Haddad", Email = "noor@example.test", Address = new() { Country = "DE" } };
        var partner = new Customer { Name = "Jonas Berg", Email = "jonas@example.test", Address = new() { Country = "DE" } };
        db.Customers.AddRange(owner, partner);
        await db.SaveChangesAsync();
        (_owner, _partner) = (owner.Id, partner.Id);
    }

    private static string Input(string testId) => $"input[data-testid={testId}], [data-testid={testId}] input";

    [Fact]
    public async Task Opening_an_account_stores_the_normalised_iban_and_its_owner_in_one_audited_transaction()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/accounts/new?customer={_owner}");
        var page = RenderPage<AccountEdit>();
        page.WaitForAssertion(() => Assert.Contains("Open account", page.Markup));
        page.Find(Input("iban")).Change("de89 3704 0044 0532 0130 00");
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var db = Db();
        var account = await db.Accounts.Include(a => a.Signatories).SingleAsync();
        Assert.Equal("DE89370400440532013000", account.Iban);
        Assert.Equal(_owner, account.CustomerId);
        var owner = Assert.Single(account.Signatories);
        Assert.Equal((_owner, SignatoryRole.Owner), (owner.CustomerId, owner.Role));
        var entries = await db.AuditEntries.Where(e => e.TableName == "Accounts" || e.TableName == "AccountSignatories").ToListAsync();
        Assert.Equal(["AccountSignatories", "Accounts"], entries.Select(e => e.TableName).Order(StringComparer.Ordinal));
        Assert.Single(entries.Select(e => e.TransactionId).Distinct());
        Assert.All(entries, e => Assert.Equal("oscar@example.test", e.ActorName));
    }

    [Fact]
    public async Task A_mistyped_iban_is_explained_and_nothing_is_saved()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/accounts/new?customer={_owner}");
        var page = RenderPage<AccountEdit>();
        page.WaitForAssertion(() => Assert.Contains("Open account", page.Markup));
        page.Find(Input("iban")).Change("DE89 3704 0044 0532 0130 01");
        await page.Find("[data-testid=save]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("check digits do not match", page.Markup));
        await using var db = Db();
        Assert.Equal(0, await db.Accounts.CountAsync());
        Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.TableName == "Accounts"));
    }

    [Fact]
    public async Task Adding_a_signatory_is_recorded_against_the_composite_key()
    {
        var id = Guid.NewGuid();
        await using (var db = Db())
        {
            db.Accounts.Add(new Account { Id = id, CustomerId = _owner, Iban = "NL91ABNA0417164300", OpenedAt = DateTimeOffset.UnixEpoch, Signatories = [new() { CustomerId = _owner, Role = SignatoryRole.Owner }] });
            await db.SaveChangesAsync();
        }

        var page = RenderPage<AccountEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Contains("Noor Haddad", page.Find("[data-testid=signatories]").TextContent));
        var picker = page.FindComponents<MudBlazor.MudSelect<int?>>().Single(s => s.Instance.Label == "Add a signatory");
        await page.InvokeAsync(() => picker.Instance.ValueChanged.InvokeAsync((int?)_partner));
        await page.Find("[data-testid=add-signatory]").ClickAsync(new());
        page.WaitForAssertion(() => Assert.Contains("Jonas Berg", page.Find("[data-testid=signatories]").TextContent));
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var check = Db();
        var added = await check.AccountSignatories.SingleAsync(s => s.CustomerId == _partner);
        Assert.Equal(SignatoryRole.Signatory, added.Role);
        var entry = await check.AuditEntries.SingleAsync(e => e.TableName == "AccountSignatories" && e.Operation == "insert" && e.RecordKey!.Contains($"\"CustomerId\":{_partner}"));
        Assert.Equal(id, Guid.Parse(JsonDocument.Parse(entry.RecordKey!).RootElement.GetProperty("AccountId").GetString()!));
    }

    [Fact]
    public async Task Deleting_an_account_without_payments_removes_it_with_its_signatories_and_audits_each_row()
    {
        var id = Guid.NewGuid();
        await using (var db = Db())
        {
            db.Accounts.Add(new Account { Id = id, CustomerId = _owner, Iban = "GB82WEST12345698765432", OpenedAt = DateTimeOffset.UnixEpoch, Signatories = [new() { CustomerId = _owner, Role = SignatoryRole.Owner }, new() { CustomerId = _partner, Role = SignatoryRole.Viewer }] });
            await db.SaveChangesAsync();
        }

        var provider = Render<MudBlazor.MudDialogProvider>();
        var page = RenderPage<AccountEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Contains("Jonas Berg", page.Find("[data-testid=signatories]").TextContent));
        await ClickAndConfirmAsync(page, provider, "[data-testid=delete]", "Delete account GB82WEST12345698765432", "Delete");

        await using var check = Db();
        Assert.Equal(0, await check.Accounts.CountAsync());
        Assert.Equal(0, await check.AccountSignatories.CountAsync());
        var deletes = await check.AuditEntries.Where(e => e.Operation == "delete").Select(e => e.TableName).ToListAsync();
        Assert.Equal(["AccountSignatories", "AccountSignatories", "Accounts"], deletes.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_account_with_payments_cannot_be_deleted_and_the_reason_is_shown()
    {
        var id = Guid.NewGuid();
        await using (var db = Db())
        {
            db.Accounts.Add(new Account { Id = id, CustomerId = _owner, Iban = "GB82WEST12345698765432", OpenedAt = DateTimeOffset.UnixEpoch });
            db.Payments.Add(new Payment { AccountId = id, Amount = 5m, Reference = "R", Beneficiary = "B", CreatedAt = DateTimeOffset.UnixEpoch });
            await db.SaveChangesAsync();
        }

        var page = RenderPage<AccountEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Contains("Fixed: the account has payments", page.Markup));
        await page.Find("[data-testid=delete]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("has payments on record and cannot be deleted; close it", page.Find("[data-testid=form-error]").TextContent));
        await using var check = Db();
        Assert.Equal(1, await check.Accounts.CountAsync());
    }
}

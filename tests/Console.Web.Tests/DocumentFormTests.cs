using System.Text.Json;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Components.Pages.Documents;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

public sealed class DocumentFormTests() : ConsoleComponentTest("quinn@example.test", "Operator")
{
    private int _customerId;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var db = Db();
        var customer = new Customer { Name = "Mara Lind", Email = "mara@example.test", Address = new() { Country = "SE" } };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        _customerId = customer.Id;
    }

    [Fact]
    public async Task A_new_contract_for_the_customer_is_saved_and_audited_as_a_contract_row_of_the_documents_table()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/documents/new?customer={_customerId}");
        var page = RenderPage<DocumentEdit>();
        page.WaitForAssertion(() => Assert.Contains("New document", page.Markup));
        await page.InvokeAsync(() => page.FindComponent<MudBlazor.MudSelect<string>>().Instance.ValueChanged.InvokeAsync(DocumentKinds.Contract));
        page.Find("input[data-testid=title], [data-testid=title] input").Change("Master services agreement");
        await page.InvokeAsync(() => page.FindComponent<MudBlazor.MudDatePicker>().Instance.DateChanged.InvokeAsync(new DateTime(2026, 10, 1)));
        await page.InvokeAsync(() => page.FindComponent<MudBlazor.MudNumericField<decimal?>>().Instance.ValueChanged.InvokeAsync(25000m));
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var db = Db();
        var contract = Assert.IsType<Contract>(await db.Documents.SingleAsync());
        Assert.Equal(_customerId, contract.CustomerId);
        Assert.Equal(new DateOnly(2026, 10, 1), contract.SignedOn);
        Assert.Equal(25000m, contract.ContractValue);
        var entry = await db.AuditEntries.SingleAsync(e => e.TableName == "Documents");
        Assert.Equal("insert", entry.Operation);
        Assert.Equal("quinn@example.test", entry.ActorName);
        var values = JsonDocument.Parse(entry.NewValues!).RootElement;
        Assert.Equal("Contract", values.GetProperty("Kind").GetString());
        Assert.Equal("2026-10-01", values.GetProperty("SignedOn").GetString());
    }

    [Fact]
    public async Task A_kyc_document_without_its_number_is_explained_and_nothing_is_saved()
    {
        Services.GetRequiredService<NavigationManager>().NavigateTo($"/documents/new?customer={_customerId}");
        var page = RenderPage<DocumentEdit>();
        page.WaitForAssertion(() => Assert.Contains("New document", page.Markup));
        page.Find("input[data-testid=title], [data-testid=title] input").Change("Passport");
        await page.Find("[data-testid=save]").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("Enter the number printed on", page.Markup));
        await using var db = Db();
        Assert.Equal(0, await db.Documents.CountAsync());
        Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.TableName == "Documents"));
    }

    [Fact]
    public async Task Editing_a_kyc_expiry_records_the_old_and_new_date()
    {
        Guid id;
        await using (var db = Db())
        {
            var document = new KycDocument { Id = Guid.NewGuid(), CustomerId = _customerId, Title = "Passport", DocumentNumber = "P-1", ExpiresOn = new DateOnly(2027, 1, 31), UploadedAt = DateTimeOffset.UnixEpoch };
            db.Documents.Add(document);
            await db.SaveChangesAsync();
            id = document.Id;
        }

        var page = RenderPage<DocumentEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Equal("P-1", page.Find("input[data-testid=number], [data-testid=number] input").GetAttribute("value")));
        await page.InvokeAsync(() => page.FindComponent<MudBlazor.MudDatePicker>().Instance.DateChanged.InvokeAsync(new DateTime(2032, 1, 31)));
        await page.Find("[data-testid=save]").ClickAsync(new());

        await using var check = Db();
        Assert.Equal(new DateOnly(2032, 1, 31), Assert.IsType<KycDocument>(await check.Documents.SingleAsync()).ExpiresOn);
        var update = await check.AuditEntries.SingleAsync(e => e.TableName == "Documents" && e.Operation == "update");
        Assert.Equal("[\"ExpiresOn\"]", update.ChangedColumns);
        Assert.Equal("2027-01-31", JsonDocument.Parse(update.OldValues!).RootElement.GetProperty("ExpiresOn").GetString());
        Assert.Equal("2032-01-31", JsonDocument.Parse(update.NewValues!).RootElement.GetProperty("ExpiresOn").GetString());
    }

    [Fact]
    public async Task Deleting_a_document_after_confirming_records_what_it_held()
    {
        var id = Guid.NewGuid();
        await using (var db = Db())
        {
            db.Documents.Add(new Contract { Id = id, CustomerId = _customerId, Title = "NDA", SignedOn = new DateOnly(2026, 5, 4), UploadedAt = DateTimeOffset.UnixEpoch });
            await db.SaveChangesAsync();
        }

        var provider = Render<MudBlazor.MudDialogProvider>();
        var page = RenderPage<DocumentEdit>(p => p.Add(c => c.Id, id));
        page.WaitForAssertion(() => Assert.Contains("Document: NDA", page.Markup));
        await ClickAndConfirmAsync(page, provider, "[data-testid=delete]", "Delete NDA?", "Delete");

        await using var check = Db();
        Assert.Equal(0, await check.Documents.CountAsync());
        var entry = await check.AuditEntries.SingleAsync(e => e.TableName == "Documents" && e.Operation == "delete");
        Assert.Equal("quinn@example.test", entry.ActorName);
        var old = JsonDocument.Parse(entry.OldValues!).RootElement;
        Assert.Equal(("NDA", "Contract", "2026-05-04"), (old.GetProperty("Title").GetString(), old.GetProperty("Kind").GetString(), old.GetProperty("SignedOn").GetString()));
    }
}

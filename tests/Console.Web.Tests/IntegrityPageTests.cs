using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
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
            services.AddSingleton<Microsoft.Extensions.Hosting.IHostEnvironment>(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { ContentRootPath = Root.FullName });
        })
    {
    }

    // The content root: the checkpoint folder and key are under it, as in the console (App_Data/…).
    private static readonly DirectoryInfo Root = Directory.CreateTempSubdirectory("cc-integrity-page-");

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

    [Fact]
    public async Task The_checkpoint_file_is_read_and_its_signature_checked_without_creating_a_key()
    {
        var folder = Directory.CreateTempSubdirectory("cc-checkpoint-file-");
        var options = new CheckpointOptions { Folder = "checkpoints", KeyPath = "key.pem" };
        var none = await CheckpointService.ReadNewestAsync(options, folder.FullName);
        Assert.Null(none.Newest);

        using (var key = CheckpointKey.LoadOrCreate(Path.Combine(folder.FullName, "key.pem")))
        {
            await using var db = ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("checkpoint"))));
            Assert.NotNull(await AuditCheckpoints.SignAsync(db, key, new FolderCheckpointSink(Path.Combine(folder.FullName, "checkpoints")), TimeProvider.System));
        }

        var signed = await CheckpointService.ReadNewestAsync(options, folder.FullName);
        Assert.True(signed.SignatureValid);

        // The line with a signature the key never made: forged.
        var file = Path.Combine(folder.FullName, "checkpoints", FolderCheckpointSink.FileName);
        await File.WriteAllTextAsync(file, (signed.Newest! with { Signature = Convert.ToBase64String(new byte[64]) }).ToJson() + "\n");

        Assert.False((await CheckpointService.ReadNewestAsync(options, folder.FullName)).SignatureValid);

        // No key and no public key: the file is read, nothing is created, and the item says why it cannot be checked.
        File.Delete(Path.Combine(folder.FullName, "key.pem"));
        File.Delete(CheckpointKey.PublicKeyPathFor(Path.Combine(folder.FullName, "key.pem")));
        var unchecked_ = await CheckpointService.ReadNewestAsync(options, folder.FullName);
        Assert.Contains("no key to check its signature with", unchecked_.Problem);
        Assert.False(File.Exists(Path.Combine(folder.FullName, "key.pem")));
        folder.Delete(recursive: true);
    }
}

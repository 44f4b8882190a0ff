using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>The audit browser's reads over a real store, on each provider.</summary>
public abstract class AuditSearchTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    private static readonly AuditContext Bob = QueryTestData.Bob;
    private static readonly AuditContext Mallory = new(new AuditActor("anonymous", "mallory@example.test", []), "endpoint:POST /account/login", "corr-mal", "203.0.113.9", "curl");

    private static Customer NewCustomer(string name) => QueryTestData.NewCustomer(name);

    /// <summary>Alice adds a customer and a tag link, Bob renames the customer, a tool outside the app inserts a tag, Mallory fails to log in.</summary>
    private static async Task<(TestDatabase Store, int CustomerId)> StoryAsync(Func<Task<TestDatabase>> create)
    {
        var store = await create();
        int id;
        await using (var db = store.Audited())
        {
            var customer = NewCustomer("Ada Lovelace");
            customer.Tags.Add(new Tag { Name = "vip" });
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            id = customer.Id;
        }

        await using (var db = store.Audited(Bob))
        {
            var customer = await db.Customers.SingleAsync(c => c.Id == id);
            customer.Name = "Ada King";
            await db.SaveChangesAsync();
        }

        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('dormant')");
        await using (var db = store.Audited(Mallory))
        {
            await db.Database.SealOutOfBandAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "mallory@example.test"));
        }

        return (store, id);
    }

    private static async Task<(List<AuditEntry> Items, List<string> Notes)> SearchAsync(TestDatabase store, string query, AuditSearchService? service = null)
    {
        var parsed = QueryParser.Parse(query);
        Assert.True(parsed.Ok, string.Join(" | ", parsed.Problems.Select(p => p.Message)));
        service ??= new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        await using var db = store.Unaudited();
        var page = await service.PageAsync(db, new AuditSearch(parsed.Query, TimeRange.All), 100);
        return (page.Items.Where(e => e.EventName != AuditTriggerInstaller.CaptureChangedEvent).ToList(), page.Notes.ToList());
    }

    [ProviderFact]
    public async Task Each_field_finds_exactly_its_entries()
    {
        var (store, id) = await StoryAsync(CreateStoreAsync);
        await using var _ = store;
        var all = await store.EntriesAsync();

        async Task<List<long>> Seqs(string q) => (await SearchAsync(store, q)).Items.Select(e => e.Seq).Order().ToList();
        List<long> Expected(Func<AuditEntry, bool> which) => all.Where(which).Select(e => e.Seq).Order().ToList();

        Assert.Equal(Expected(e => e.ActorName == "alice@example.test"), await Seqs("actor:ALICE"));
        Assert.Equal(Expected(e => e.ActorName == "Bob.Builder@example.test"), await Seqs("actor:bob.builder@EXAMPLE.test"));
        Assert.Equal(Expected(e => e.ActorName == "Bob.Builder@example.test"), await Seqs("actor:u-bob"));
        Assert.Equal(Expected(e => e.TableName == "Customers"), await Seqs("table:customers"));
        Assert.Equal(Expected(e => e.TableName is "Customers" or "Tags"), await Seqs("table:(Customers OR TAGS)"));
        Assert.Equal(Expected(e => e.TableName != "Customers"), await Seqs("-table:Customers"));
        Assert.Equal(Expected(e => e.Operation == "update"), await Seqs("op:UPDATE"));
        Assert.Equal(Expected(e => e.TableName == "Customers" && e.RecordKey == $"{{\"Id\":{id}}}"), await Seqs($"table:Customers record:{id}"));
        Assert.Contains(Expected(e => e.TableName == "Customers" && e.RecordKey == $"{{\"Id\":{id}}}")[0], await Seqs($"record:{id}"));
        Assert.Equal(Expected(e => e.Origin.StartsWith("page:/customers", StringComparison.Ordinal)), await Seqs("origin:page:/customers*"));
        Assert.Equal(Expected(e => e.EventName?.StartsWith("auth.", StringComparison.Ordinal) == true), await Seqs("event:auth.*"));
        Assert.Equal(Expected(e => e.OutOfBand), await Seqs("outofband:true"));
        Assert.Single(await Seqs("outofband:true"));
        Assert.Equal(Expected(e => e.CorrelationId == "corr-bob"), await Seqs("correlation:CORR-BOB"));
        var tx = all.First(e => e.ActorName == "alice@example.test").TransactionId!;
        Assert.Equal(Expected(e => e.TransactionId == tx), await Seqs("tx:" + tx));
        Assert.Equal(Expected(e => e.IpAddress == "203.0.113.9"), await Seqs("ip:203.0.*"));
        Assert.Equal(Expected(e => e.NewValues?.Contains("Ada King") == true || e.OldValues?.Contains("Ada King") == true), await Seqs("\"ada king\""));
        Assert.Equal(Expected(e => e.TableName == "Customers" && e.Operation == "insert"), await Seqs("table:Customers -op:update"));
    }

    [ProviderFact]
    public async Task A_name_that_matches_nothing_says_so_with_the_nearest_names()
    {
        var (store, _) = await StoryAsync(CreateStoreAsync);
        await using var _s = store;
        var (items, notes) = await SearchAsync(store, "table:Custmers");
        Assert.Empty(items);
        Assert.Contains("No table in the trail is called \"Custmers\". Did you mean \"Customers\"?", Assert.Single(notes));
        (items, notes) = await SearchAsync(store, "actor:nobody");
        Assert.Empty(items);
        Assert.Contains("No actor in the trail matches", Assert.Single(notes));
    }

    [ProviderFact]
    public async Task A_new_actor_is_found_as_soon_as_it_is_sealed()
    {
        var (store, _) = await StoryAsync(CreateStoreAsync);
        await using var _s = store;
        var service = new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        Assert.Empty((await SearchAsync(store, "actor:carol", service)).Items);
        var carol = new AuditContext(new AuditActor("u-carol", "carol@example.test", ["Admin"]), "job:test", "corr-c", null, null);
        await using (var db = store.Audited(carol))
        {
            db.Tags.Add(new Tag { Name = "sme" });
            await db.SaveChangesAsync();
        }

        Assert.Single((await SearchAsync(store, "actor:carol", service)).Items);
    }

    [ProviderFact]
    public async Task Keyset_paging_returns_every_entry_exactly_once_while_others_write()
    {
        await using var store = await CreateStoreAsync();
        for (var batch = 0; batch < 10; batch++)
        {
            await using var db = store.Audited();
            db.Tags.AddRange(Enumerable.Range(0, 10).Select(i => new Tag { Name = $"t{batch}-{i}" }));
            await db.SaveChangesAsync();
        }

        await using var reader = store.Unaudited();
        var head = await reader.AuditEntries.MaxAsync(e => e.Seq);
        var expected = await reader.AuditEntries.Where(e => e.TableName == "Tags").Select(e => e.Seq).OrderByDescending(s => s).ToListAsync();
        var service = new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        var search = new AuditSearch(QueryParser.Parse("table:Tags").Query, TimeRange.All);

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                await using var db = store.Audited(Bob);
                db.Tags.Add(new Tag { Name = $"late-{n++}" });
                await db.SaveChangesAsync();
            }
        });

        // The first page is taken before the cursor exists: entries written meanwhile may land on it, so start below the head.
        var seen = new List<long>();
        var cursor = head + 1;
        var pages = new List<AuditPage>();
        while (true)
        {
            var page = await service.PageAsync(reader, search with { Before = cursor }, 7);
            pages.Add(page);
            seen.AddRange(page.Items.Select(e => e.Seq));
            if (page.OlderCursor is not { } older)
            {
                break;
            }

            cursor = older;
            await Task.Delay(5);
        }

        await stop.CancelAsync();
        await writer;
        Assert.Equal(expected, seen);
        Assert.False(pages[^1].HasOlder);
        Assert.All(pages.Skip(1), p => Assert.True(p.HasNewer));

        // Walking back up with after= gives the same pages.
        var back = await service.PageAsync(reader, search with { After = pages[2].Items[0].Seq }, 7);
        Assert.Equal(pages[1].Items.Select(e => e.Seq), back.Items.Select(e => e.Seq));
    }

    [ProviderFact]
    public async Task Counts_stop_at_the_bound_and_the_histogram_adds_up_to_the_count()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero));
        for (var day = 0; day < 5; day++)
        {
            clock.Now = clock.Now.AddDays(1);
            await using var db = store.Audited(TestDatabase.Alice, clock);
            db.Tags.AddRange(Enumerable.Range(0, day + 1).Select(i => new Tag { Name = $"d{day}-{i}" }));
            await db.SaveChangesAsync();
        }

        var service = new AuditSearchService(new AuditVocabulary(), clock);
        await using var reader = store.Unaudited();
        var search = new AuditSearch(QueryParser.Parse("table:Tags").Query, new TimeRange("7d"));
        Assert.Equal(new BoundedCount(15, false), await service.CountAsync(reader, search));
        Assert.Equal("10+", (await service.CountAsync(reader, search, bound: 10)).ToString());

        var histogram = await service.HistogramAsync(reader, search);
        Assert.Equal(15, histogram.Total);
        Assert.Equal(TimeSpan.FromHours(3), histogram.BarSize);
        var busiest = histogram.Bars.MaxBy(b => b.Total)!;
        Assert.Equal(5, busiest.ByOperation["insert"]);
        Assert.Equal(clock.Now.UtcDateTime.Date.AddHours(9), busiest.StartUtc);

        var narrowed = await service.CountAsync(reader, search with { Range = TimeRange.Between(busiest.StartUtc, busiest.StartUtc + histogram.BarSize) });
        Assert.Equal(5, narrowed.Value);
    }

    [ProviderFact]
    public async Task Jump_goes_to_a_seq_or_to_the_newest_entry_at_or_before_a_time_and_says_what_it_cannot_read()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 9, 0, 0, TimeSpan.Zero));
        for (var hour = 0; hour < 4; hour++)
        {
            clock.Now = clock.Now.AddHours(1);
            await using var db = store.Audited(TestDatabase.Alice, clock);
            db.Tags.Add(new Tag { Name = $"h{hour}" });
            await db.SaveChangesAsync();
        }

        var service = new AuditSearchService(new AuditVocabulary(), clock);
        await using var reader = store.Unaudited();
        var tags = await reader.AuditEntries.Where(e => e.TableName == "Tags").OrderBy(e => e.Seq).ToListAsync();
        var search = new AuditSearch(QueryParser.Parse("table:Tags").Query, TimeRange.Default);

        var (bySeq, _) = await service.JumpAsync(reader, search, tags[1].Seq.ToString(), TimeZoneInfo.Utc);
        Assert.Equal(tags[1].Seq, (await service.PageAsync(reader, bySeq!, 10)).Items[0].Seq);

        var (byTime, _) = await service.JumpAsync(reader, search, "2026-11-20 11:30", TimeZoneInfo.Utc); // tags at 10:00, 11:00, 12:00, 13:00
        var page = await service.PageAsync(reader, byTime!, 10);
        Assert.Equal(tags[1].Seq, page.Items[0].Seq);
        Assert.True(page.HasNewer);

        var (none, early) = await service.JumpAsync(reader, search, "2026-01-01", TimeZoneInfo.Utc);
        Assert.Null(none);
        Assert.Contains("No entry of this search at or before 2026-01-01 00:00:00", early);
        var (bad, problem) = await service.JumpAsync(reader, search, "last tuesday", TimeZoneInfo.Utc);
        Assert.Null(bad);
        Assert.Contains("neither a seq nor a time", problem);
    }

    [ProviderFact]
    public async Task Records_are_labelled_from_the_trail_even_after_they_are_deleted()
    {
        var (store, id) = await StoryAsync(CreateStoreAsync);
        await using var _s = store;
        await using (var db = store.Audited())
        {
            var customer = await db.Customers.Include(c => c.Tags).SingleAsync(c => c.Id == id);
            db.Customers.Remove(customer);
            await db.SaveChangesAsync();
        }

        await using var reader = store.Unaudited();
        var entries = await store.EntriesAsync();
        var labels = await RecordLabels.For(reader.Model).ForAsync(reader, entries);
        var customerEntries = entries.Where(e => e.TableName == "Customers").ToList();
        Assert.Equal(["Ada Lovelace", "Ada King", "Ada King"], customerEntries.Select(e => labels[e.Seq]));
        var link = entries.First(e => e.TableName == "CustomerTags");
        Assert.Equal("Ada King ↔ vip", labels[link.Seq]);
        Assert.Equal("dormant", labels[entries.Single(e => e.OutOfBand).Seq]);
    }
}

public sealed class SqliteAuditSearchTests : AuditSearchTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();
}

[RequiresSqlServer]
public sealed class SqlServerAuditSearchTests : AuditSearchTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}

public sealed class ColumnNameTests
{
    [Fact]
    public async Task Columns_are_named_as_the_domain_calls_them()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using var db = store.Unaudited();
        var names = EntryDetailsQuery.ColumnNames(db.Model, "Customers");
        Assert.True(names.ContainsKey("Address_Street"), string.Join(", ", names.Select(p => p.Key + "=" + p.Value)));
        Assert.Equal("Address › Street", names["Address_Street"]);
        Assert.Equal("Kyc verified at", names["KycVerifiedAt"]);
        Assert.Equal("Name", names["Name"]);
        Assert.Equal("Contract value", EntryDetailsQuery.ColumnNames(db.Model, "Documents")["ContractValue"]); // a derived type's column
        Assert.Empty(EntryDetailsQuery.ColumnNames(db.Model, null)); // an event: no table, no columns (and no keyless SQL-only type)
    }
}

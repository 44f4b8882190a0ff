using System.Text.RegularExpressions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>SQLite's full-text index over the trail: it finds exactly what a scan of the values finds.</summary>
public sealed class AuditTextIndexTests
{
    private static readonly string[] Words = ["harbour", "market", "lovelace", "hopper", "zürich", "renewed", "passport", "frozen", "dublin", "berlin", "invoice", "acme"];

    private static HashSet<string> Tokens(string? json) =>
        json is null ? [] : Regex.Split(json.ToLowerInvariant().Replace("ü", "u"), @"[^\p{L}\p{N}]+").Where(t => t.Length > 0).ToHashSet();

    [Fact]
    public async Task The_index_equals_a_fresh_scan_on_random_samples()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var random = new Random(11);
        string Phrase() => string.Join(' ', Enumerable.Range(0, random.Next(1, 4)).Select(_ => Words[random.Next(Words.Length)]));
        for (var batch = 0; batch < 20; batch++)
        {
            await using var db = store.Audited();
            for (var i = 0; i < 10; i++)
            {
                db.Customers.Add(new Customer
                {
                    Name = Phrase(), Email = $"c{batch}-{i}@example.test", TaxId = "X", CreatedAt = DateTimeOffset.UnixEpoch,
                    Address = new Address { Street = Phrase(), City = Phrase(), PostalCode = "1", Country = "DE" },
                });
            }

            await db.SaveChangesAsync();
            if (batch % 3 == 0)
            {
                var some = await db.Customers.OrderBy(c => c.Id).Skip(random.Next(0, 5)).FirstAsync();
                some.Name = Phrase();
                await db.SaveChangesAsync();
            }
        }

        await using var reader = store.Unaudited();
        Assert.Equal(0, await AuditTextIndex.LagAsync(reader) - await reader.AuditEntries.LongCountAsync()); // nothing indexed yet
        var service = new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        var entries = await reader.AuditEntries.AsNoTracking().ToListAsync();
        foreach (var word in Words.Concat(["ZURICH", "Lovel*"]))
        {
            var parsed = QueryParser.Parse($"\"{word}\"");
            var found = (await (await service.FilterAsync(reader, parsed.Query, TimeRange.All)).Entries.Select(e => e.Seq).ToListAsync()).Order().ToList();
            var prefix = word.EndsWith('*');
            var w = word.TrimEnd('*').ToLowerInvariant().Replace("ü", "u");
            var expected = entries
                .Where(e => Tokens(e.NewValues).Concat(Tokens(e.OldValues)).Any(t => prefix ? t.StartsWith(w, StringComparison.Ordinal) : t == w))
                .Select(e => e.Seq).Order().ToList();
            Assert.True(expected.SequenceEqual(found), $"\"{word}\": the index found {found.Count}, a scan {expected.Count}");
            Assert.NotEmpty(found);
        }

        Assert.Equal(0, await AuditTextIndex.LagAsync(reader)); // a search brings the index up to the chain first

        // Pages of a text search, newest first, are exactly the scan's order, alone or with other conditions.
        foreach (var q in new[] { "\"harbour\"", "\"harbour\" op:update", "\"berlin\" -op:insert", "\"harbour\" -\"berlin\"", "\"harbour\" \"berlin\"" })
        {
            var query = QueryParser.Parse(q).Query;
            var expected = entries
                .Where(e => Tokens(e.NewValues).Concat(Tokens(e.OldValues)).Contains(q.Split('"')[1]))
                .Where(e => !q.Contains("op:update") || e.Operation == "update")
                .Where(e => !q.Contains("-op:insert") || e.Operation != "insert")
                .Where(e => !q.Contains("-\"berlin\"") || !Tokens(e.NewValues).Concat(Tokens(e.OldValues)).Contains("berlin"))
                .Where(e => !q.Contains(" \"berlin\"") || Tokens(e.NewValues).Concat(Tokens(e.OldValues)).Contains("berlin"))
                .Select(e => e.Seq).OrderDescending().ToList();
            var seen = new List<long>();
            long? before = null;
            AuditPage page;
            do
            {
                page = await service.PageAsync(reader, new AuditSearch(query, TimeRange.All, before), 7);
                Assert.Equal(before is not null, page.HasNewer);
                seen.AddRange(page.Items.Select(e => e.Seq));
                before = page.OlderCursor;
            }
            while (before is not null);

            Assert.True(expected.SequenceEqual(seen), $"{q}: pages gave {seen.Count}, the scan {expected.Count}");
            Assert.Equal(expected.Count, (await service.CountAsync(reader, new AuditSearch(query, TimeRange.All))).Value);

            // And back up from the oldest page, a page at a time (the newer cursor), to the newest.
            var back = new List<long>(page.Items.Select(e => e.Seq));
            while (page.NewerCursor is { } after)
            {
                page = await service.PageAsync(reader, new AuditSearch(query, TimeRange.All, After: after), 7);
                back.InsertRange(0, page.Items.Select(e => e.Seq));
            }

            Assert.True(expected.SequenceEqual(back), $"{q}: pages back up gave {back.Count}, the scan {expected.Count}");
        }
    }

    [Fact]
    public async Task A_large_backlog_is_searched_as_far_as_indexed_and_the_lag_is_said()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using (var db = store.Audited())
        {
            db.Tags.AddRange(Enumerable.Range(0, AuditTextIndex.SearchCatchUp + 50).Select(i => new Tag { Name = $"bulk-{i}" }));
            await db.SaveChangesAsync();
        }

        await using var reader = store.Unaudited();
        var service = new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        var notes = (await service.FilterAsync(reader, QueryParser.Parse("\"bulk\"").Query, TimeRange.All)).Notes;
        Assert.Contains(notes, n => n.Contains("The text index is") && n.Contains("behind the chain"));
        Assert.True(await AuditTextIndex.CatchUpAsync(reader, 100_000) > 0);
        notes = (await service.FilterAsync(reader, QueryParser.Parse("\"bulk\"").Query, TimeRange.All)).Notes;
        Assert.Empty(notes);
    }

    /// <summary>SQL Server's index (a word table), run here on SQLite: the same table and SQL, checked against a scan.</summary>
    [Fact]
    public async Task The_word_index_finds_every_entry_holding_all_the_words_and_nothing_else()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var random = new Random(5);
        string Phrase() => string.Join(' ', Enumerable.Range(0, random.Next(1, 4)).Select(_ => Words[random.Next(Words.Length)]));
        for (var batch = 0; batch < 12; batch++)
        {
            await using var db = store.Audited();
            for (var i = 0; i < 10; i++)
            {
                db.Customers.Add(new Customer
                {
                    Name = Phrase(), Email = $"w{batch}-{i}@example.test", TaxId = "X", CreatedAt = DateTimeOffset.UnixEpoch,
                    Address = new Address { Street = Phrase(), City = batch == 3 && i == 0 ? "Zürich-Größenwahn" : Phrase(), PostalCode = "1", Country = "DE" },
                });
            }

            await db.SaveChangesAsync();
            if (batch % 4 == 0)
            {
                await using var indexer = store.Unaudited();
                await AuditWordIndex.CatchUpAsync(indexer, 7); // part of the way, so that later runs start from the mark
            }
        }

        await using var reader = store.Unaudited();
        Assert.True(await AuditWordIndex.LagAsync(reader) > 0);
        while (await AuditWordIndex.CatchUpAsync(reader, 50) > 0)
        {
        }

        Assert.Equal(0, await AuditWordIndex.LagAsync(reader));
        var entries = await reader.AuditEntries.AsNoTracking().ToListAsync();
        HashSet<string> All(AuditEntry e) => [.. Tokens(e.NewValues).Concat(Tokens(e.OldValues)).Select(t => t.Replace("ö", "o"))];
        foreach (var text in Words.Concat(["ZURICH", "Lovel*", "harbour market", "market harbour", "zurich grossenwahn", "Zürich Größenwahn", "dub*", "!!"]))
        {
            var words = AuditWordIndex.Words(text.TrimEnd('*')).ToList();
            var prefix = text.EndsWith('*');
            var expected = entries
                .Where(e => words.Count > 0 && words.All(w => All(e).Any(t => prefix ? t.StartsWith(w, StringComparison.Ordinal) : t == w)))
                .Select(e => e.Seq).Order().ToList();
            var found = (await AuditWordIndex.Matching(reader, text).ToListAsync()).Order().ToList();
            Assert.True(expected.SequenceEqual(found), $"\"{text}\": the word index found {found.Count}, a scan {expected.Count}");
        }

        Assert.Equal(["zurich", "großenwahn"], AuditWordIndex.Words("Zürich-Größenwahn")); // accents folded away, as unicode61 does; ß is a letter of its own
        Assert.NotEmpty(await AuditWordIndex.Matching(reader, "Zurich Größenwahn").ToListAsync());
    }
}

using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>An actor as the trail names it: the name (an email, or <c>system:job</c>) and the id.</summary>
public sealed record TrailActor(string Name, string? Id);

/// <summary>The distinct values of the trail at one moment, for suggestions and for resolving what a person typed.</summary>
public sealed record AuditVocabularySnapshot(
    long ThroughSeq,
    IReadOnlyList<string> Tables,
    IReadOnlyList<string> Events,
    IReadOnlyList<TrailActor> Actors,
    IReadOnlyList<string> Origins,
    IReadOnlyDictionary<string, IReadOnlyList<string>> KeyColumns);

/// <summary>
/// The distinct tables, events, actors and origins in the trail, read once and then only for entries newer than the
/// last read (a seq range scan), so that resolving <c>actor:olivia</c> to the actors it means stays cheap at any size.
/// One per database; thread-safe.
/// </summary>
public sealed class AuditVocabulary
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SortedSet<string> _tables = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _events = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _origins = new(StringComparer.Ordinal);
    private readonly HashSet<TrailActor> _actors = [];
    private readonly Dictionary<string, IReadOnlyList<string>> _keyColumns = new(StringComparer.Ordinal);
    private AuditVocabularySnapshot _snapshot = new(0, [], [], [], [], new Dictionary<string, IReadOnlyList<string>>());

    /// <summary>The vocabulary as of now: brought up to date with any entries sealed since the last call.</summary>
    public async Task<AuditVocabularySnapshot> CurrentAsync(ConsoleDbContext db, CancellationToken cancellationToken = default)
    {
        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        if (head == _snapshot.ThroughSeq)
        {
            return _snapshot;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var since = _snapshot.ThroughSeq;
            if (head < since)
            {
                // A different or recreated database behind the same name: start again.
                since = 0;
                _tables.Clear(); _events.Clear(); _origins.Clear(); _actors.Clear(); _keyColumns.Clear();
            }

            var fresh = db.AuditEntries.AsNoTracking().Where(e => e.Seq > since && e.Seq <= head);
            _tables.UnionWith(await fresh.Where(e => e.TableName != null).Select(e => e.TableName!).Distinct().ToListAsync(cancellationToken));
            _events.UnionWith(await fresh.Where(e => e.EventName != null).Select(e => e.EventName!).Distinct().ToListAsync(cancellationToken));

            // Actors: the distinct names (an index scan), then one id each. Origins: only as patterns (ids become *), from
            // recent entries, for suggestions; an origin: filter compares the stored values directly and needs no list.
            var known = _actors.Select(a => a.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var name in await fresh.Where(e => e.ActorName != null).Select(e => e.ActorName!).Distinct().ToListAsync(cancellationToken))
            {
                if (known.Add(name))
                {
                    _actors.Add(new TrailActor(name, await db.AuditEntries.Where(e => e.ActorName == name).Select(e => e.ActorId).FirstOrDefaultAsync(cancellationToken)));
                }
            }

            var recent = Math.Max(since, head - RecentOrigins);
            foreach (var origin in await db.AuditEntries.AsNoTracking().Where(e => e.Seq > recent && e.Seq <= head).Select(e => e.Origin).Distinct().ToListAsync(cancellationToken))
            {
                if (_origins.Count < MaxOrigins)
                {
                    _origins.Add(OriginPattern(origin));
                }
            }

            foreach (var table in _tables.Where(t => !_keyColumns.ContainsKey(t)).ToList())
            {
                var key = await db.AuditEntries.AsNoTracking().Where(e => e.TableName == table && e.RecordKey != null).Select(e => e.RecordKey).FirstOrDefaultAsync(cancellationToken);
                _keyColumns[table] = KeyColumnsOf(key);
            }

            _snapshot = new AuditVocabularySnapshot(head, _tables.ToList(), _events.ToList(),
                _actors.OrderBy(a => a.Name, StringComparer.OrdinalIgnoreCase).ToList(), _origins.ToList(), new Dictionary<string, IReadOnlyList<string>>(_keyColumns));
            return _snapshot;
        }
        finally
        {
            _gate.Release();
        }
    }

    private const int RecentOrigins = 50_000;
    private const int MaxOrigins = 2_000;

    /// <summary><c>page:/customers/17/edit</c> → <c>page:/customers/*/edit</c>: the shape of an origin, without the record's id.</summary>
    public static string OriginPattern(string origin) =>
        System.Text.RegularExpressions.Regex.Replace(origin, @"(?<=/)([0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})(?=/|$|\?)", "*");

    private static IReadOnlyList<string> KeyColumnsOf(string? keyJson)
    {
        if (keyJson is null)
        {
            return [];
        }

        try
        {
            using var doc = JsonDocument.Parse(keyJson);
            return doc.RootElement.ValueKind == JsonValueKind.Object ? doc.RootElement.EnumerateObject().Select(p => p.Name).ToList() : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

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
            _origins.UnionWith(await fresh.Select(e => e.Origin).Distinct().ToListAsync(cancellationToken));
            _actors.UnionWith((await fresh.Where(e => e.ActorName != null).Select(e => new { e.ActorName, e.ActorId }).Distinct().ToListAsync(cancellationToken))
                .Select(a => new TrailActor(a.ActorName!, a.ActorId)));
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

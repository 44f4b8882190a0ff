using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.History;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ComplianceConsole.Data.Queries;

/// <summary>Whether an entry's hashes agree with its own content and with its neighbours in the chain, checked when the entry is opened.</summary>
public sealed record NeighbourCheck(bool PayloadMatches, bool? LinksToPrevious, bool? NextLinksHere, string Summary)
{
    public bool Verifies => PayloadMatches && LinksToPrevious != false && NextLinksHere != false;
}

/// <summary>Everything the entry page shows about one entry.</summary>
public sealed record EntryDetails(
    AuditEntry Entry,
    string? Label,
    RecordState Before,
    RecordState After,
    long? PreviousOfRecord,
    long? NextOfRecord,
    int RecordEntries,
    NeighbourCheck Check,
    IReadOnlyDictionary<string, string> ColumnNames);

/// <summary>Loads an entry with its record's state on both sides (<see cref="RecordHistory"/>) and checks it against its neighbours.</summary>
public static class EntryDetailsQuery
{
    /// <summary>How many of a record's entries are replayed to rebuild its state; a record with more is rebuilt from its latest ones.</summary>
    public const int MaxHistory = 5_000;

    public static async Task<EntryDetails?> LoadAsync(ConsoleDbContext db, long seq, CancellationToken cancellationToken = default)
    {
        var entry = await db.AuditEntries.AsNoTracking().SingleOrDefaultAsync(e => e.Seq == seq, cancellationToken);
        if (entry is null)
        {
            return null;
        }

        var before = RecordState.None;
        var after = RecordState.None;
        long? previous = null, next = null;
        var count = 0;
        string? label = null;
        if (entry.TableName is { } table && entry.RecordKey is { } key)
        {
            var history = await db.AuditEntries.AsNoTracking()
                .Where(e => e.TableName == table && e.RecordKey == key && e.Seq <= seq)
                .OrderByDescending(e => e.Seq).Take(MaxHistory).ToListAsync(cancellationToken);
            history.Reverse();
            (before, after) = RecordHistory.Around(history, seq);
            previous = history.Count > 1 ? history[^2].Seq : null;
            next = await db.AuditEntries.Where(e => e.TableName == table && e.RecordKey == key && e.Seq > seq).OrderBy(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken);
            count = await db.AuditEntries.CountAsync(e => e.TableName == table && e.RecordKey == key, cancellationToken);
            label = (await RecordLabels.For(db.Model).ForAsync(db, [entry], cancellationToken)).GetValueOrDefault(seq);
        }

        var neighbours = await db.AuditEntries.AsNoTracking().Where(e => e.Seq == seq - 1 || e.Seq == seq + 1).ToListAsync(cancellationToken);
        var check = Check(entry, neighbours.SingleOrDefault(e => e.Seq == seq - 1), neighbours.SingleOrDefault(e => e.Seq == seq + 1));
        return new EntryDetails(entry, label, before, after, previous, next, count, check, ColumnNames(db.Model, entry.TableName));
    }

    public static NeighbourCheck Check(AuditEntry entry, AuditEntry? previous, AuditEntry? next)
    {
        var payload = HashChain.PayloadHash(entry) == entry.PayloadHash;
        bool? back = entry.Seq == 1 ? entry.RowHash == HashChain.RowHash(entry.Version, entry.Seq, entry.PayloadHash, HashChain.GenesisHash)
            : previous is null ? null : entry.RowHash == HashChain.RowHash(entry.Version, entry.Seq, entry.PayloadHash, previous.RowHash);
        bool? forward = next is null ? null : next.RowHash == HashChain.RowHash(next.Version, next.Seq, next.PayloadHash, entry.RowHash);
        var summary = !payload ? "Its content does not match its payload hash: this entry was changed after it was sealed."
            : back == false ? $"Its row hash does not follow from entry {entry.Seq - 1}: the chain is broken here. Run 'verify' for the whole chain."
            : forward == false ? $"Entry {entry.Seq + 1} does not link to it: the chain is broken just after it. Run 'verify' for the whole chain."
            : back is null && entry.Seq > 1 ? "Its content matches its hash; the entry before it is gone (removed by retention), so the link back is proven by the retention anchor instead."
            : "Its content matches its payload hash, and it links to the entries on both sides.";
        return new NeighbourCheck(payload, back, forward, summary);
    }

    /// <summary>Column names as the domain calls them (<c>Address › City</c>), by stored column name, from the EF model.</summary>
    public static IReadOnlyDictionary<string, string> ColumnNames(IModel model, string? table)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        // An event has no table; a keyless type read through SQL only (AuditTextHit) has none either, and must not match it.
        var entity = table is null ? null : model.GetEntityTypes().FirstOrDefault(t => t.GetTableName() == table && !t.IsOwned());
        if (entity is null)
        {
            return names;
        }

        var store = StoreObjectIdentifier.Create(entity, StoreObjectType.Table)!.Value;
        void Add(ITypeBase type, IEnumerable<IProperty> properties, IEnumerable<IComplexProperty> complexProperties, string prefix)
        {
            foreach (var property in properties)
            {
                names.TryAdd(property.GetColumnName(store) ?? property.GetColumnName(), prefix + Humanize(property.Name));
            }

            foreach (var complex in complexProperties)
            {
                Add(complex.ComplexType, complex.ComplexType.GetProperties(), complex.ComplexType.GetComplexProperties(), prefix + Humanize(complex.Name) + " › ");
            }
        }

        foreach (var type in new[] { entity }.Concat(entity.GetDerivedTypes()))
        {
            Add(type, type.GetDeclaredProperties(), type.GetDeclaredComplexProperties(), "");
        }

        return names;
    }

    /// <summary><c>KycVerifiedAt</c> → <c>Kyc verified at</c>; <c>Iban</c> stays <c>IBAN</c>-free of guesswork: only case breaks are split.</summary>
    public static string Humanize(string name)
    {
        var words = System.Text.RegularExpressions.Regex.Split(name, "(?<=[a-z0-9])(?=[A-Z])");
        return string.Join(' ', words.Select((w, i) => i == 0 ? w : w.ToLowerInvariant()));
    }
}

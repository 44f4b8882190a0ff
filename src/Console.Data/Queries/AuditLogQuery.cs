using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>The Audit Log page's filters. Dates are whole UTC days, both ends included.</summary>
public sealed record AuditLogFilter(
    string? Table = null,
    string? Operation = null,
    string? Actor = null,
    DateOnly? From = null,
    DateOnly? To = null)
{
    /// <summary>Problems a person can fix, each saying how.</summary>
    public IEnumerable<string> Validate()
    {
        if (From is { } f && To is { } t && f > t)
        {
            yield return $"The date range runs backwards ({f:yyyy-MM-dd} to {t:yyyy-MM-dd}): pick a 'from' date on or before the 'to' date.";
        }

        if (Operation is not null && !AuditOperations.All.Contains(Operation))
        {
            yield return $"\"{Operation}\" is not an operation: choose insert, update, delete or event.";
        }
    }
}

public sealed record AuditLogPage(IReadOnlyList<AuditEntry> Items, int TotalCount);

public static class AuditLogQuery
{
    /// <summary>The pseudo-table under which events are listed in the table filter.</summary>
    public const string EventsTable = "(events)";

    public static IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> query, AuditLogFilter filter)
    {
        if (filter.Table == EventsTable)
        {
            query = query.Where(e => e.Operation == AuditOperations.Event);
        }
        else if (!string.IsNullOrWhiteSpace(filter.Table))
        {
            query = query.Where(e => e.TableName == filter.Table);
        }

        if (!string.IsNullOrWhiteSpace(filter.Operation))
        {
            query = query.Where(e => e.Operation == filter.Operation);
        }

        if (!string.IsNullOrWhiteSpace(filter.Actor))
        {
            var actor = filter.Actor.Trim();
            query = query.Where(e => e.ActorName!.Contains(actor) || e.ActorId == actor);
        }

        if (filter.From is { } from)
        {
            var start = from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            query = query.Where(e => e.OccurredAtUtc >= start);
        }

        if (filter.To is { } to)
        {
            var end = to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            query = query.Where(e => e.OccurredAtUtc < end);
        }

        return query;
    }

    /// <summary>One page, newest first.</summary>
    public static async Task<AuditLogPage> PageAsync(ConsoleDbContext db, AuditLogFilter filter, int page, int pageSize, CancellationToken cancellationToken = default)
    {
        var query = Apply(db.AuditEntries.AsNoTracking(), filter);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(e => e.Seq).Skip(page * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return new AuditLogPage(items, total);
    }

    public static Task<List<string>> TablesAsync(ConsoleDbContext db, CancellationToken cancellationToken = default) =>
        db.AuditEntries.Where(e => e.TableName != null).Select(e => e.TableName!).Distinct().OrderBy(t => t).ToListAsync(cancellationToken);
}

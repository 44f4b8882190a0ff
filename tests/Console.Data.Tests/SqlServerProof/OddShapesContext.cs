using System.ComponentModel.DataAnnotations;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// A model with every shape the SQL Server trigger generator must handle or refuse: a table in another schema, the same
/// table name in two schemas, a keyless table, a legacy ntext column, an xml column, a rowversion,
/// a temporal table's period columns, a long composite string key and entity splitting.
/// </summary>
public sealed class OddShapesContext(DbContextOptions<OddShapesContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder b)
    {
        b.Entity<Invoice>(e =>
        {
            e.ToTable("Invoices", "sales");
            e.Property(i => i.Version).IsRowVersion();
            e.Property(i => i.Offset).HasColumnType("datetimeoffset");
        });
        b.Entity<SalesNote>().ToTable("Notes", "sales");
        b.Entity<HrNote>().ToTable("Notes", "hr");
        b.Entity<LogLine>().HasNoKey().ToTable("LogLines");
        b.Entity<Legacy>(e => e.Property(l => l.Body).HasColumnType("ntext"));
        b.Entity<Odd>(e =>
        {
            e.Property(o => o.Doc).HasColumnType("xml");
        });
        b.Entity<Priced>(e => e.ToTable("Prices", t => t.IsTemporal()));
        b.Entity<Composite>().HasKey(c => new { c.Region, c.Code });
        b.Entity<Session>().ToTable("Sessions", t => t.IsMemoryOptimized());
        b.Entity<Person>(e =>
        {
            e.ToTable("People");
            e.SplitToTable("PeopleDetails", t => t.Property(p => p.Biography));
        });
    }
}

public sealed class Invoice
{
    public int Id { get; set; }
    public string Number { get; set; } = "";
    public DateTimeOffset Offset { get; set; }
    public byte[] Version { get; set; } = [];
}

public sealed class SalesNote
{
    public int Id { get; set; }
    public string Text { get; set; } = "";
}

public sealed class HrNote
{
    public int Id { get; set; }
    public string Text { get; set; } = "";
}

public sealed class LogLine
{
    public string Message { get; set; } = "";
}

public sealed class Legacy
{
    public int Id { get; set; }
    public string Body { get; set; } = "";
}

public sealed class Odd
{
    public int Id { get; set; }
    public string Doc { get; set; } = "";
}

public sealed class Priced
{
    public int Id { get; set; }
    public decimal Amount { get; set; }
}

public sealed class Composite
{
    [MaxLength(300)]
    public string Region { get; set; } = "";

    [MaxLength(300)]
    public string Code { get; set; } = "";

    public string Label { get; set; } = "";
}

public sealed class Session
{
    public int Id { get; set; }
    public string User { get; set; } = "";
}

public sealed class Person
{
    public int Id { get; set; }
    public string Name { get; set; } = "";
    public string Biography { get; set; } = "";
}

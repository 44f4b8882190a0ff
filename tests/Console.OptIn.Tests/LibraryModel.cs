using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.OptIn.Tests;

// The "other team": a library that lends books. Nothing here knows about the console.
public sealed class Book
{
    public int Id { get; set; }
    public required string Isbn { get; set; }
    public required string Title { get; set; }
    public List<Loan> Loans { get; } = [];
}

public sealed class Loan
{
    public int Id { get; set; }
    public int BookId { get; set; }
    public Book? Book { get; set; }
    public required string Borrower { get; set; }

    [AuditRedact]
    public required string BorrowerPhone { get; set; }

    public DateTime LentAt { get; set; }
}

public sealed class LibraryContext(DbContextOptions<LibraryContext> options) : DbContext(options)
{
    public DbSet<Book> Books => Set<Book>();
    public DbSet<Loan> Loans => Set<Loan>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Book>().HasIndex(b => b.Isbn).IsUnique();
        modelBuilder.Entity<Loan>()
            .HasOne(l => l.Book).WithMany(b => b.Loans)
            .HasForeignKey(l => l.BookId)
            .OnDelete(DeleteBehavior.Cascade);
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AuditTextIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Full-text search over the trail's values (Data/Queries/AuditTextIndex): contentless (the text lives in
            // AuditEntries), rowid = seq, deletable by rowid for retention. Filled off the write path.
            migrationBuilder.Sql("CREATE VIRTUAL TABLE AuditText USING fts5(Body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE AuditText;");
        }
    }
}

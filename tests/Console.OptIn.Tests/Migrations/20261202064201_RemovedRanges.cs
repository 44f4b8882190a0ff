using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.OptIn.Tests.Migrations
{
    /// <inheritdoc />
    public partial class RemovedRanges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditRemovedRanges",
                columns: table => new
                {
                    FirstSeq = table.Column<long>(type: "INTEGER", nullable: false),
                    ThroughSeq = table.Column<long>(type: "INTEGER", nullable: false),
                    LastRowHash = table.Column<string>(type: "TEXT", fixedLength: true, maxLength: 64, nullable: false),
                    RunId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditRemovedRanges", x => x.FirstSeq);
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditRemovedRanges_RunId",
                table: "AuditRemovedRanges",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_AuditRemovedRanges_ThroughSeq",
                table: "AuditRemovedRanges",
                column: "ThroughSeq");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditRemovedRanges");
        }
    }
}

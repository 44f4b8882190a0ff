using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ActorDayPeaks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditActorDayPeaks",
                columns: table => new
                {
                    Hour = table.Column<long>(type: "INTEGER", nullable: false),
                    ActorName = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Operation = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Peak = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditActorDayPeaks", x => new { x.Hour, x.ActorName, x.Operation });
                });

            // A store counted before this table: its peaks from the hourly per-actor rows, which count up to the same mark.
            migrationBuilder.Sql(ComplianceConsole.Data.Rollups.AuditRollups.PeaksBackfill(sqlServer: false));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditActorDayPeaks");
        }
    }
}

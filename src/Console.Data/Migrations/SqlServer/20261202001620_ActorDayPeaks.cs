using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.SqlServer
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
                    Hour = table.Column<long>(type: "bigint", nullable: false),
                    ActorName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Operation = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    Peak = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditActorDayPeaks", x => new { x.Hour, x.ActorName, x.Operation });
                });

            // A store counted before this table: its peaks from the hourly per-actor rows, which count up to the same mark.
            migrationBuilder.Sql(ComplianceConsole.Data.Rollups.AuditRollups.PeaksBackfill(sqlServer: true));
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditActorDayPeaks");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class ActorDaysAndFirsts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "AuditActorDayCounts",
                columns: table => new
                {
                    ActorName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Hour = table.Column<long>(type: "bigint", nullable: false),
                    Operation = table.Column<string>(type: "nvarchar(16)", maxLength: 16, nullable: false),
                    TableName = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: false),
                    EventName = table.Column<string>(type: "nvarchar(100)", maxLength: 100, nullable: false),
                    OutOfBand = table.Column<bool>(type: "bit", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditActorDayCounts", x => new { x.Hour, x.ActorName, x.Operation, x.TableName, x.EventName, x.OutOfBand });
                });

            migrationBuilder.CreateTable(
                name: "AuditActorFirsts",
                columns: table => new
                {
                    ActorName = table.Column<string>(type: "nvarchar(256)", maxLength: 256, nullable: false),
                    Kind = table.Column<string>(type: "nvarchar(8)", maxLength: 8, nullable: false),
                    Value = table.Column<string>(type: "nvarchar(128)", maxLength: 128, nullable: false),
                    FirstHour = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AuditActorFirsts", x => new { x.ActorName, x.Kind, x.Value });
                });

            migrationBuilder.CreateIndex(
                name: "IX_AuditActorHourCounts_Hour",
                table: "AuditActorHourCounts",
                column: "Hour");

            migrationBuilder.CreateIndex(
                name: "IX_AuditActorFirsts_Kind_FirstHour",
                table: "AuditActorFirsts",
                columns: new[] { "Kind", "FirstHour" });

            // A store counted before these tables: fill them from the hourly per-actor rows, which count up to the same mark.
            foreach (var statement in ComplianceConsole.Data.Rollups.AuditRollups.BackfillStatements(sqlServer: true))
            {
                migrationBuilder.Sql(statement);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AuditActorDayCounts");

            migrationBuilder.DropTable(
                name: "AuditActorFirsts");

            migrationBuilder.DropIndex(
                name: "IX_AuditActorHourCounts_Hour",
                table: "AuditActorHourCounts");
        }
    }
}

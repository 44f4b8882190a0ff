using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class BrowserIndexPlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_ActorId_OccurredAtUtc",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Operation_OccurredAtUtc",
                table: "AuditEntries");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries",
                column: "EventName",
                filter: "[EventName] IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Operation",
                table: "AuditEntries",
                column: "Operation");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Operation",
                table: "AuditEntries");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_ActorId_OccurredAtUtc",
                table: "AuditEntries",
                columns: new[] { "ActorId", "OccurredAtUtc" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries",
                column: "EventName");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Operation_OccurredAtUtc",
                table: "AuditEntries",
                columns: new[] { "Operation", "OccurredAtUtc" });
        }
    }
}

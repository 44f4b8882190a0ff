using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.OptIn.Tests.Migrations
{
    /// <inheritdoc />
    public partial class BrowserIndexes : Migration
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
                name: "IX_AuditEntries_ActorName",
                table: "AuditEntries",
                column: "ActorName");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries",
                column: "EventName",
                filter: "\"EventName\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Operation",
                table: "AuditEntries",
                column: "Operation");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_Origin",
                table: "AuditEntries",
                column: "Origin");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_OutOfBand",
                table: "AuditEntries",
                column: "OutOfBand",
                filter: "\"OutOfBand\" = 1");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_TableName",
                table: "AuditEntries",
                column: "TableName");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_TransactionId",
                table: "AuditEntries",
                column: "TransactionId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_ActorName",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_EventName",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Operation",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_Origin",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_OutOfBand",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_TableName",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_TransactionId",
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

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.SqlServer
{
    /// <inheritdoc />
    public partial class SqlServerCapture : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "TxId",
                table: "AuditPending",
                type: "bigint",
                nullable: false,
                defaultValueSql: "CURRENT_TRANSACTION_ID()");

            migrationBuilder.CreateIndex(
                name: "IX_AuditPending_TxId",
                table: "AuditPending",
                column: "TxId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditPending_TxId",
                table: "AuditPending");

            migrationBuilder.DropColumn(
                name: "TxId",
                table: "AuditPending");
        }
    }
}

using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.Data.Migrations.SqlServer
{
    /// <summary>
    /// The runtime login needs only DML (docs/sqlserver.md): the roles and their grants; the pending table locks only rows;
    /// the read side's (TableName, Seq) and (ActorId, Seq) indexes.
    /// </summary>
    public partial class LeastPrivilege : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_TableName",
                table: "AuditEntries");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_ActorId_Seq",
                table: "AuditEntries",
                columns: new[] { "ActorId", "Seq" });

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_TableName_Seq",
                table: "AuditEntries",
                columns: new[] { "TableName", "Seq" });

            foreach (var statement in SqlServerAuditSql.PendingLocking().Concat(SqlServerAuditSql.RoleScript()))
            {
                migrationBuilder.Sql(statement);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // The roles stay: logins may be members of them.
            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_ActorId_Seq",
                table: "AuditEntries");

            migrationBuilder.DropIndex(
                name: "IX_AuditEntries_TableName_Seq",
                table: "AuditEntries");

            migrationBuilder.CreateIndex(
                name: "IX_AuditEntries_TableName",
                table: "AuditEntries",
                column: "TableName");
        }
    }
}

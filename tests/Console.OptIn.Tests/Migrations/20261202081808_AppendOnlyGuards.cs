using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ComplianceConsole.OptIn.Tests.Migrations
{
    /// <inheritdoc />
    public partial class AppendOnlyGuards : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // README, "Auditing your own DbContext": the store refuses every rewrite from the moment it exists.
            migrationBuilder.AddAuditStoreGuards();
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}

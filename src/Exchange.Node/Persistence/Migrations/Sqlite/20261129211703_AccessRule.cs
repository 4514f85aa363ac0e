using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Node.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AccessRule : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_audit_events_FindingId",
                table: "audit_events");

            migrationBuilder.AddColumn<long>(
                name: "AvailableAt",
                table: "findings",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "HeldUntil",
                table: "findings",
                type: "INTEGER",
                nullable: true);

            // What was readable before this migration became readable when it was submitted or arrived.
            migrationBuilder.Sql("UPDATE findings SET \"AvailableAt\" = COALESCE(\"ReceivedAt\", \"SubmittedAt\");");

            migrationBuilder.AddColumn<byte[]>(
                name: "ProtectedWithdrawalReason",
                table: "findings",
                type: "BLOB",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_findings_HeldUntil",
                table: "findings",
                column: "HeldUntil");

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_FindingId_Kind",
                table: "audit_events",
                columns: new[] { "FindingId", "Kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_findings_HeldUntil",
                table: "findings");

            migrationBuilder.DropIndex(
                name: "IX_audit_events_FindingId_Kind",
                table: "audit_events");

            migrationBuilder.DropColumn(
                name: "AvailableAt",
                table: "findings");

            migrationBuilder.DropColumn(
                name: "HeldUntil",
                table: "findings");

            migrationBuilder.DropColumn(
                name: "ProtectedWithdrawalReason",
                table: "findings");

            migrationBuilder.CreateIndex(
                name: "IX_audit_events_FindingId",
                table: "audit_events",
                column: "FindingId");
        }
    }
}

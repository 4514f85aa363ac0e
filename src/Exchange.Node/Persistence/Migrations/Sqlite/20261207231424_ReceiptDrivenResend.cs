using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Exchange.Node.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ReceiptDrivenResend : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Answers",
                table: "outbox",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ResendAt",
                table: "outbox",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Resends",
                table: "outbox",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateIndex(
                name: "IX_outbox_Answers",
                table: "outbox",
                column: "Answers");

            migrationBuilder.CreateIndex(
                name: "IX_outbox_ResendAt",
                table: "outbox",
                column: "ResendAt");

            // What was sent and never answered before this migration is due to be sent again now:
            // findings (1) and withdrawals (2) are the kinds answered with a receipt.
            migrationBuilder.Sql("""
                UPDATE outbox SET "ResendAt" = "SentAt"
                WHERE "SentAt" IS NOT NULL AND "AnsweredAt" IS NULL AND "CancelledAt" IS NULL AND "Kind" IN (1, 2)
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_outbox_Answers",
                table: "outbox");

            migrationBuilder.DropIndex(
                name: "IX_outbox_ResendAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Answers",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "ResendAt",
                table: "outbox");

            migrationBuilder.DropColumn(
                name: "Resends",
                table: "outbox");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Trading.Persistence.Migrations.MySql
{
    /// <inheritdoc />
    public partial class Owners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_trading_idempotency_keys",
                table: "trading_idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "subject",
                table: "trading_idempotency_keys",
                type: "varchar(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddColumn<string>(
                name: "owner",
                table: "trading_accounts",
                type: "varchar(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddPrimaryKey(
                name: "PK_trading_idempotency_keys",
                table: "trading_idempotency_keys",
                columns: new[] { "subject", "key" });

            migrationBuilder.CreateIndex(
                name: "ix_accounts_owner",
                table: "trading_accounts",
                column: "owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_trading_idempotency_keys",
                table: "trading_idempotency_keys");

            migrationBuilder.DropIndex(
                name: "ix_accounts_owner",
                table: "trading_accounts");

            migrationBuilder.DropColumn(
                name: "subject",
                table: "trading_idempotency_keys");

            migrationBuilder.DropColumn(
                name: "owner",
                table: "trading_accounts");

            migrationBuilder.AddPrimaryKey(
                name: "PK_trading_idempotency_keys",
                table: "trading_idempotency_keys",
                column: "key");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Ledger.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Owners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "ledger",
                table: "idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "subject",
                schema: "ledger",
                table: "idempotency_keys",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "owner",
                schema: "ledger",
                table: "accounts",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "ledger",
                table: "idempotency_keys",
                columns: new[] { "subject", "key" });

            migrationBuilder.CreateIndex(
                name: "ix_accounts_owner",
                schema: "ledger",
                table: "accounts",
                column: "owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "ledger",
                table: "idempotency_keys");

            migrationBuilder.DropIndex(
                name: "ix_accounts_owner",
                schema: "ledger",
                table: "accounts");

            migrationBuilder.DropColumn(
                name: "subject",
                schema: "ledger",
                table: "idempotency_keys");

            migrationBuilder.DropColumn(
                name: "owner",
                schema: "ledger",
                table: "accounts");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "ledger",
                table: "idempotency_keys",
                column: "key");
        }
    }
}

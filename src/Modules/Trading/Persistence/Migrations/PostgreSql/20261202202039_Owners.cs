using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Trading.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Owners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "trading",
                table: "idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "subject",
                schema: "trading",
                table: "idempotency_keys",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<string>(
                name: "owner",
                schema: "trading",
                table: "accounts",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "trading",
                table: "idempotency_keys",
                columns: new[] { "subject", "key" });

            migrationBuilder.CreateIndex(
                name: "ix_accounts_owner",
                schema: "trading",
                table: "accounts",
                column: "owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "trading",
                table: "idempotency_keys");

            migrationBuilder.DropIndex(
                name: "ix_accounts_owner",
                schema: "trading",
                table: "accounts");

            migrationBuilder.DropColumn(
                name: "subject",
                schema: "trading",
                table: "idempotency_keys");

            migrationBuilder.DropColumn(
                name: "owner",
                schema: "trading",
                table: "accounts");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "trading",
                table: "idempotency_keys",
                column: "key");
        }
    }
}

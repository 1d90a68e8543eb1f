using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Portfolio.Persistence.Migrations.PostgreSql
{
    /// <inheritdoc />
    public partial class Owners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "portfolio",
                table: "idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "subject",
                schema: "portfolio",
                table: "idempotency_keys",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "portfolio",
                table: "idempotency_keys",
                columns: new[] { "subject", "key" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "portfolio",
                table: "idempotency_keys");

            migrationBuilder.DropColumn(
                name: "subject",
                schema: "portfolio",
                table: "idempotency_keys");

            migrationBuilder.AddPrimaryKey(
                name: "PK_idempotency_keys",
                schema: "portfolio",
                table: "idempotency_keys",
                column: "key");
        }
    }
}

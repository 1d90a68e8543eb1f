using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Portfolio.Persistence.Migrations.MySql
{
    /// <inheritdoc />
    public partial class Owners : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_portfolio_idempotency_keys",
                table: "portfolio_idempotency_keys");

            migrationBuilder.AddColumn<string>(
                name: "subject",
                table: "portfolio_idempotency_keys",
                type: "varchar(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.AddPrimaryKey(
                name: "PK_portfolio_idempotency_keys",
                table: "portfolio_idempotency_keys",
                columns: new[] { "subject", "key" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropPrimaryKey(
                name: "PK_portfolio_idempotency_keys",
                table: "portfolio_idempotency_keys");

            migrationBuilder.DropColumn(
                name: "subject",
                table: "portfolio_idempotency_keys");

            migrationBuilder.AddPrimaryKey(
                name: "PK_portfolio_idempotency_keys",
                table: "portfolio_idempotency_keys",
                column: "key");
        }
    }
}

using System;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Portfolio.Persistence.Migrations.MySql
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterDatabase()
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_idempotency_keys",
                columns: table => new
                {
                    key = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    request_hash = table.Column<string>(type: "char(64)", fixedLength: true, maxLength: 64, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    operation_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    created_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_idempotency_keys", x => x.key);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_portfolios",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    owner = table.Column<string>(type: "varchar(200)", maxLength: 200, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    created_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_portfolios", x => x.id);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_tokens",
                columns: table => new
                {
                    symbol = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    quote_currency = table.Column<string>(type: "char(3)", fixedLength: true, maxLength: 3, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    created_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_tokens", x => x.symbol);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_positions",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    portfolio_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    symbol = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    amount = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    mean_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    local_mean_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    version = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_positions", x => x.id);
                    table.CheckConstraint("ck_positions_amount_not_negative", "amount >= 0");
                    table.CheckConstraint("ck_positions_means_reset_when_empty", "amount > 0 OR (mean_price = 0 AND local_mean_price = 0)");
                    table.ForeignKey(
                        name: "FK_portfolio_positions_portfolio_portfolios_portfolio_id",
                        column: x => x.portfolio_id,
                        principalTable: "portfolio_portfolios",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_portfolio_positions_portfolio_tokens_symbol",
                        column: x => x.symbol,
                        principalTable: "portfolio_tokens",
                        principalColumn: "symbol",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_transactions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("MySql:ValueGenerationStrategy", MySqlValueGenerationStrategy.IdentityColumn),
                    operation_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    position_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    side = table.Column<string>(type: "varchar(4)", maxLength: 4, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    quantity = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    unit_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    local_unit_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    executed_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false),
                    recorded_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_transactions", x => x.id);
                    table.CheckConstraint("ck_transactions_prices_positive", "unit_price > 0 AND local_unit_price > 0");
                    table.CheckConstraint("ck_transactions_quantity_positive", "quantity > 0");
                    table.ForeignKey(
                        name: "FK_portfolio_transactions_portfolio_positions_position_id",
                        column: x => x.position_id,
                        principalTable: "portfolio_positions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "portfolio_snapshots",
                columns: table => new
                {
                    transaction_id = table.Column<long>(type: "bigint", nullable: false),
                    position_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    executed_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false),
                    amount = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    mean_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    local_mean_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_portfolio_snapshots", x => x.transaction_id);
                    table.CheckConstraint("ck_snapshots_amount_not_negative", "amount >= 0");
                    table.ForeignKey(
                        name: "FK_portfolio_snapshots_portfolio_positions_position_id",
                        column: x => x.position_id,
                        principalTable: "portfolio_positions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_portfolio_snapshots_portfolio_transactions_transaction_id",
                        column: x => x.transaction_id,
                        principalTable: "portfolio_transactions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "IX_portfolio_positions_symbol",
                table: "portfolio_positions",
                column: "symbol");

            migrationBuilder.CreateIndex(
                name: "ux_positions_portfolio_symbol",
                table: "portfolio_positions",
                columns: new[] { "portfolio_id", "symbol" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_snapshots_position_executed_at",
                table: "portfolio_snapshots",
                columns: new[] { "position_id", "executed_at", "transaction_id" });

            migrationBuilder.CreateIndex(
                name: "ix_transactions_position_executed_at",
                table: "portfolio_transactions",
                columns: new[] { "position_id", "executed_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_transactions_position_id",
                table: "portfolio_transactions",
                columns: new[] { "position_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ux_transactions_operation_id",
                table: "portfolio_transactions",
                column: "operation_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "portfolio_idempotency_keys");

            migrationBuilder.DropTable(
                name: "portfolio_snapshots");

            migrationBuilder.DropTable(
                name: "portfolio_transactions");

            migrationBuilder.DropTable(
                name: "portfolio_positions");

            migrationBuilder.DropTable(
                name: "portfolio_portfolios");

            migrationBuilder.DropTable(
                name: "portfolio_tokens");
        }
    }
}

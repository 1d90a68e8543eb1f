using System;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Trading.Persistence.Migrations.MySql
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
                name: "trading_accounts",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    initial_balance = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    current_balance = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    cumulative_pnl = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    peak_equity = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    max_drawdown_pct = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    max_drawdown_limit_pct = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    status = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    fence_token = table.Column<long>(type: "bigint", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false),
                    updated_by = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trading_accounts", x => x.id);
                    table.CheckConstraint("ck_accounts_balance_positive", "current_balance > 0");
                    table.CheckConstraint("ck_accounts_drawdown_limit_percent", "max_drawdown_limit_pct > 0 AND max_drawdown_limit_pct <= 100");
                    table.CheckConstraint("ck_accounts_drawdown_percent", "max_drawdown_pct >= 0 AND max_drawdown_pct <= 100");
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "trading_audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("MySql:ValueGenerationStrategy", MySqlValueGenerationStrategy.IdentityColumn),
                    account_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    entity_type = table.Column<string>(type: "varchar(32)", maxLength: 32, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    entity_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    entity_version = table.Column<long>(type: "bigint", nullable: false),
                    action = table.Column<string>(type: "varchar(200)", maxLength: 200, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    actor = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    before = table.Column<string>(type: "longtext", nullable: true)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    after = table.Column<string>(type: "longtext", nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trading_audit_log", x => x.id);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "trading_idempotency_keys",
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
                    table.PrimaryKey("PK_trading_idempotency_keys", x => x.key);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "trading_decisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("MySql:ValueGenerationStrategy", MySqlValueGenerationStrategy.IdentityColumn),
                    account_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    symbol = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    action = table.Column<string>(type: "varchar(32)", maxLength: 32, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    reason = table.Column<string>(type: "varchar(500)", maxLength: 500, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    strategy_name = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    order_id = table.Column<Guid>(type: "char(36)", nullable: true, collation: "ascii_general_ci"),
                    at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))")
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trading_decisions", x => x.id);
                    table.ForeignKey(
                        name: "FK_trading_decisions_trading_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "trading_accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "trading_orders",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    account_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    symbol = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    side = table.Column<string>(type: "varchar(4)", maxLength: 4, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    shares = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    limit_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    strategy_name = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    status = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    fill_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: true),
                    reason = table.Column<string>(type: "varchar(500)", maxLength: 500, nullable: true)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    created_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false, defaultValueSql: "(UTC_TIMESTAMP(6))"),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    fence_token = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trading_orders", x => x.id);
                    table.CheckConstraint("ck_orders_filled_has_price", "(status = 'Filled') = (fill_price IS NOT NULL)");
                    table.CheckConstraint("ck_orders_limit_positive", "limit_price > 0");
                    table.CheckConstraint("ck_orders_shares_positive", "shares > 0");
                    table.ForeignKey(
                        name: "FK_trading_orders_trading_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "trading_accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "trading_trades",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    account_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    order_id = table.Column<Guid>(type: "char(36)", nullable: false, collation: "ascii_general_ci"),
                    symbol = table.Column<string>(type: "varchar(16)", maxLength: 16, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    side = table.Column<string>(type: "varchar(4)", maxLength: 4, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    shares = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    entry_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    cost = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: false),
                    strategy_name = table.Column<string>(type: "varchar(100)", maxLength: 100, nullable: false)
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    opened_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: false),
                    exit_price = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: true),
                    pnl = table.Column<decimal>(type: "decimal(28,8)", precision: 28, scale: 8, nullable: true),
                    closed_at = table.Column<DateTimeOffset>(type: "datetime(6)", nullable: true),
                    version = table.Column<long>(type: "bigint", nullable: false),
                    fence_token = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_trading_trades", x => x.id);
                    table.CheckConstraint("ck_trades_closed_once", "(exit_price IS NULL) = (pnl IS NULL) AND (pnl IS NULL) = (closed_at IS NULL)");
                    table.CheckConstraint("ck_trades_entry_positive", "entry_price > 0");
                    table.CheckConstraint("ck_trades_shares_positive", "shares > 0");
                    table.ForeignKey(
                        name: "FK_trading_trades_trading_accounts_account_id",
                        column: x => x.account_id,
                        principalTable: "trading_accounts",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_trading_trades_trading_orders_order_id",
                        column: x => x.order_id,
                        principalTable: "trading_orders",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_account_id",
                table: "trading_audit_log",
                columns: new[] { "account_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_entity_id",
                table: "trading_audit_log",
                columns: new[] { "entity_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_decisions_account_id",
                table: "trading_decisions",
                columns: new[] { "account_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_orders_account_id",
                table: "trading_orders",
                column: "account_id");

            migrationBuilder.CreateIndex(
                name: "ix_orders_status_created_at",
                table: "trading_orders",
                columns: new[] { "status", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_trades_account_opened_at",
                table: "trading_trades",
                columns: new[] { "account_id", "opened_at" });

            migrationBuilder.CreateIndex(
                name: "ux_trades_order_id",
                table: "trading_trades",
                column: "order_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "trading_audit_log");

            migrationBuilder.DropTable(
                name: "trading_decisions");

            migrationBuilder.DropTable(
                name: "trading_idempotency_keys");

            migrationBuilder.DropTable(
                name: "trading_trades");

            migrationBuilder.DropTable(
                name: "trading_orders");

            migrationBuilder.DropTable(
                name: "trading_accounts");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Monolith.Trading.Persistence.Migrations.MySql
{
    /// <inheritdoc />
    public partial class AccountOpenShares : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<decimal>(
                name: "open_shares",
                table: "trading_accounts",
                type: "decimal(28,8)",
                precision: 28,
                scale: 8,
                nullable: false,
                defaultValue: 0m);

            // Accounts opened before this column carry open trades already.
            migrationBuilder.Sql("""
                UPDATE trading_accounts a SET open_shares = COALESCE(
                    (SELECT SUM(t.shares) FROM trading_trades t WHERE t.account_id = a.id AND t.exit_price IS NULL), 0)
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "open_shares",
                table: "trading_accounts");
        }
    }
}

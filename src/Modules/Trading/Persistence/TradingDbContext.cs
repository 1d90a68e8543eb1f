using Monolith.Shared.Modules;

namespace Monolith.Trading.Persistence;

internal sealed class TradingDbContext(DbContextOptions<TradingDbContext> options) : ModuleDbContext(options)
{
    /// <summary>Its schema on PostgreSQL, its table prefix on MySQL.</summary>
    public static readonly string StoreName = ModuleNames.Store(TradingModule.ModuleName);
    public override string Module => StoreName;

    public DbSet<TradingAccount> Accounts => Set<TradingAccount>();
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<Trade> Trades => Set<Trade>();
    public DbSet<Decision> Decisions => Set<Decision>();
    public DbSet<AuditEntry> Audit => Set<AuditEntry>();

    protected override void ConfigureModule(ModelBuilder model)
    {
        model.Entity<TradingAccount>(e =>
        {
            e.ToTable("accounts", t =>
            {
                t.HasCheckConstraint("ck_accounts_balance_positive", "current_balance > 0");
                t.HasCheckConstraint("ck_accounts_drawdown_percent", "max_drawdown_pct >= 0 AND max_drawdown_pct <= 100");
                t.HasCheckConstraint("ck_accounts_drawdown_limit_percent", "max_drawdown_limit_pct > 0 AND max_drawdown_limit_pct <= 100");
            });
            e.Property(x => x.Owner).HasMaxLength(Caller.MaxSubjectLength);
            e.HasIndex(x => x.Owner).HasDatabaseName("ix_accounts_owner");
            e.HasKey(a => a.Id);
            e.Property(a => a.Id).ValueGeneratedNever();
            e.Property(a => a.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(a => a.UpdatedBy).HasMaxLength(100);
            e.Ignore(a => a.Equity);
        });

        model.Entity<Order>(e =>
        {
            e.ToTable("orders", t =>
            {
                t.HasCheckConstraint("ck_orders_shares_positive", "shares > 0");
                t.HasCheckConstraint("ck_orders_limit_positive", "limit_price > 0");
                t.HasCheckConstraint("ck_orders_filled_has_price", "(status = 'Filled') = (fill_price IS NOT NULL)");
            });
            e.HasKey(o => o.Id);
            e.Property(o => o.Id).ValueGeneratedNever();
            e.Property(o => o.Symbol).HasMaxLength(16);
            e.Property(o => o.Side).HasConversion<string>().HasMaxLength(4);
            e.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(o => o.StrategyName).HasMaxLength(100);
            e.Property(o => o.Reason).HasMaxLength(500);
            e.HasOne<TradingAccount>().WithMany().HasForeignKey(o => o.AccountId).OnDelete(DeleteBehavior.Restrict);
            // Recovery finds pending orders by age.
            e.HasIndex(o => new { o.Status, o.CreatedAt }).HasDatabaseName("ix_orders_status_created_at");
            e.HasIndex(o => o.AccountId).HasDatabaseName("ix_orders_account_id");
        });

        model.Entity<Trade>(e =>
        {
            e.ToTable("trades", t =>
            {
                t.HasCheckConstraint("ck_trades_shares_positive", "shares > 0");
                t.HasCheckConstraint("ck_trades_entry_positive", "entry_price > 0");
                t.HasCheckConstraint("ck_trades_closed_once", "(exit_price IS NULL) = (pnl IS NULL) AND (pnl IS NULL) = (closed_at IS NULL)");
            });
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Symbol).HasMaxLength(16);
            e.Property(x => x.Side).HasConversion<string>().HasMaxLength(4);
            e.Property(x => x.StrategyName).HasMaxLength(100);
            e.Ignore(x => x.IsOpen);
            e.HasOne<TradingAccount>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Restrict);
            // One trade per filled order, whatever races.
            e.HasOne<Order>().WithOne().HasForeignKey<Trade>(x => x.OrderId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(x => x.OrderId).IsUnique().HasDatabaseName("ux_trades_order_id");
            e.HasIndex(x => new { x.AccountId, x.OpenedAt }).HasDatabaseName("ix_trades_account_opened_at");
        });

        model.Entity<Decision>(e =>
        {
            e.ToTable("decisions");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Symbol).HasMaxLength(16);
            e.Property(x => x.Action).HasMaxLength(32);
            e.Property(x => x.Reason).HasMaxLength(500);
            e.Property(x => x.StrategyName).HasMaxLength(100);
            e.HasOne<TradingAccount>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(x => new { x.AccountId, x.Id }).HasDatabaseName("ix_decisions_account_id");
        });

        model.Entity<AuditEntry>(e =>
        {
            e.ToTable("audit_log");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.EntityType).HasMaxLength(32);
            e.Property(x => x.Action).HasMaxLength(200);
            e.Property(x => x.Actor).HasMaxLength(100);
            // The GapLock range of each audited entity: its audit rows by key, new ones at the top.
            e.HasIndex(x => new { x.EntityId, x.Id }).HasDatabaseName("ix_audit_log_entity_id");
            // The account's audit pages, keyset on id.
            e.HasIndex(x => new { x.AccountId, x.Id }).HasDatabaseName("ix_audit_log_account_id");
        });
    }
}

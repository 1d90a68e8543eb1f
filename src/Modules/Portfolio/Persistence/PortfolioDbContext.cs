using Monolith.Shared.Modules;

namespace Monolith.Portfolio.Persistence;

internal sealed class PortfolioDbContext(DbContextOptions<PortfolioDbContext> options) : ModuleDbContext(options)
{
    /// <summary>Its schema on PostgreSQL, its table prefix on MySQL.</summary>
    public static readonly string StoreName = ModuleNames.Store(PortfolioModule.ModuleName);
    public override string Module => StoreName;

    public DbSet<Domain.Portfolio> Portfolios => Set<Domain.Portfolio>();
    public DbSet<Token> Tokens => Set<Token>();
    public DbSet<Position> Positions => Set<Position>();
    public DbSet<TokenTransaction> Transactions => Set<TokenTransaction>();
    public DbSet<Snapshot> Snapshots => Set<Snapshot>();

    protected override void ConfigureModule(ModelBuilder model)
    {
        model.Entity<Domain.Portfolio>(e =>
        {
            e.ToTable("portfolios");
            e.HasKey(p => p.Id);
            e.Property(p => p.Id).ValueGeneratedNever();
            e.Property(p => p.Owner).HasMaxLength(Domain.Portfolio.MaxOwnerLength);
        });

        model.Entity<Token>(e =>
        {
            e.ToTable("tokens");
            e.HasKey(t => t.Symbol);
            e.Property(t => t.Symbol).HasMaxLength(16);
            e.Property(t => t.QuoteCurrency).HasMaxLength(3).IsFixedLength();
        });

        model.Entity<Position>(e =>
        {
            e.ToTable("positions", t =>
            {
                t.HasCheckConstraint("ck_positions_amount_not_negative", "amount >= 0");
                t.HasCheckConstraint("ck_positions_means_reset_when_empty", "amount > 0 OR (mean_price = 0 AND local_mean_price = 0)");
            });
            e.HasKey(p => p.Id);
            e.Property(p => p.Id).ValueGeneratedNever();
            e.Property(p => p.Symbol).HasMaxLength(16);
            e.HasOne<Domain.Portfolio>().WithMany().HasForeignKey(p => p.PortfolioId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Token>().WithMany().HasForeignKey(p => p.Symbol).OnDelete(DeleteBehavior.Restrict);
            // One position per token and portfolio: two first transactions racing to open it collide here, and the
            // loser re-runs and finds the winner's.
            e.HasIndex(p => new { p.PortfolioId, p.Symbol }).IsUnique().HasDatabaseName("ux_positions_portfolio_symbol");
        });

        model.Entity<TokenTransaction>(e =>
        {
            e.ToTable("transactions", t =>
            {
                t.HasCheckConstraint("ck_transactions_quantity_positive", "quantity > 0");
                t.HasCheckConstraint("ck_transactions_prices_positive", "unit_price > 0 AND local_unit_price > 0");
            });
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Side).HasConversion<string>().HasMaxLength(4);
            e.HasOne<Position>().WithMany().HasForeignKey(x => x.PositionId).OnDelete(DeleteBehavior.Restrict);
            e.HasIndex(x => x.OperationId).IsUnique().HasDatabaseName("ux_transactions_operation_id");
            // The GapLock range: a position's transactions by key, where new ones always land at the top.
            e.HasIndex(x => new { x.PositionId, x.Id }).HasDatabaseName("ix_transactions_position_id");
            // History pages, keyset on (executed_at, id).
            e.HasIndex(x => new { x.PositionId, x.ExecutedAt, x.Id }).HasDatabaseName("ix_transactions_position_executed_at");
        });

        model.Entity<Snapshot>(e =>
        {
            e.ToTable("snapshots", t => t.HasCheckConstraint("ck_snapshots_amount_not_negative", "amount >= 0"));
            e.HasKey(s => s.TransactionId);
            e.Property(s => s.TransactionId).ValueGeneratedNever();
            e.HasOne(s => s.Transaction).WithOne().HasForeignKey<Snapshot>(s => s.TransactionId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Position>().WithMany().HasForeignKey(s => s.PositionId).OnDelete(DeleteBehavior.Restrict);
            e.Ignore(s => s.Holding);
            // The holding at an instant: one seek to the last snapshot at or before it.
            e.HasIndex(s => new { s.PositionId, s.ExecutedAt, s.TransactionId }).HasDatabaseName("ix_snapshots_position_executed_at");
        });
    }
}

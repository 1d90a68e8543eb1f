using Monolith.Shared.Modules;

namespace Monolith.Ledger.Persistence;

internal sealed class LedgerDbContext(DbContextOptions<LedgerDbContext> options) : ModuleDbContext(options)
{
    /// <summary>Its schema on PostgreSQL, its table prefix on MySQL.</summary>
    public static readonly string StoreName = ModuleNames.Store(LedgerModule.ModuleName);
    public override string Module => StoreName;

    public DbSet<Account> Accounts => Set<Account>();
    public DbSet<LedgerEntry> Entries => Set<LedgerEntry>();
    public DbSet<LedgerTransfer> Transfers => Set<LedgerTransfer>();

    protected override void ConfigureModule(ModelBuilder model)
    {
        model.Entity<Account>(e =>
        {
            e.ToTable("accounts", t =>
            {
                t.HasCheckConstraint("ck_accounts_balance_within_overdraft", "balance >= -overdraft_limit");
                t.HasCheckConstraint("ck_accounts_overdraft_limit_not_negative", "overdraft_limit >= 0");
            });
            e.HasKey(a => a.Id);
            e.Property(a => a.Id).ValueGeneratedNever();
            e.Property(a => a.Currency).HasMaxLength(3).IsFixedLength();
            e.Property(a => a.Owner).HasMaxLength(Caller.MaxSubjectLength);
            e.HasIndex(a => a.Owner).HasDatabaseName("ix_accounts_owner");
            // Lets transfers reference (currency, account), so the database too refuses a cross-currency transfer.
            // Currency leads: a key led by id would let MariaDB serve "WHERE id = ?" through it and lock that index
            // before the primary key, inverting the lock order of SELECT ... FOR UPDATE (deadlocks, measured).
            e.HasAlternateKey(a => new { a.Currency, a.Id });
        });

        model.Entity<LedgerEntry>(e =>
        {
            e.ToTable("entries", t => t.HasCheckConstraint("ck_entries_amount_not_zero", "amount <> 0"));
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedOnAdd();
            e.Property(x => x.Operation).HasConversion<string>().HasMaxLength(16);
            e.HasOne<Account>().WithMany().HasForeignKey(x => x.AccountId).OnDelete(DeleteBehavior.Restrict);
            // Statement pages (keyset on id) and the GapLock range: (account, id).
            e.HasIndex(x => new { x.AccountId, x.Id }).HasDatabaseName("ix_entries_account_id");
            // Balance as of an instant: one index seek to the last entry at or before it.
            e.HasIndex(x => new { x.AccountId, x.CreatedAt, x.Id }).HasDatabaseName("ix_entries_account_created_at");
            e.HasIndex(x => x.OperationId).HasDatabaseName("ix_entries_operation_id");
        });

        model.Entity<LedgerTransfer>(e =>
        {
            e.ToTable("transfers", t =>
            {
                t.HasCheckConstraint("ck_transfers_amount_positive", "amount > 0");
                t.HasCheckConstraint("ck_transfers_distinct_accounts", "from_account_id <> to_account_id");
            });
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).ValueGeneratedNever();
            e.Property(x => x.Currency).HasMaxLength(3).IsFixedLength();
            e.HasOne<Account>().WithMany().HasForeignKey(x => new { x.Currency, x.FromAccountId })
                .HasPrincipalKey(a => new { a.Currency, a.Id }).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<Account>().WithMany().HasForeignKey(x => new { x.Currency, x.ToAccountId })
                .HasPrincipalKey(a => new { a.Currency, a.Id }).OnDelete(DeleteBehavior.Restrict);
        });
    }
}

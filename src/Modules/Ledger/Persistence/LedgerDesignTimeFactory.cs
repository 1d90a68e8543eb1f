using Microsoft.EntityFrameworkCore.Design;

namespace Monolith.Ledger.Persistence;

/// <summary>For 'dotnet ef migrations add' only; the build's provider decides which migrations it writes.</summary>
internal sealed class LedgerDesignTimeFactory : IDesignTimeDbContextFactory<LedgerDbContext>
{
    public LedgerDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<LedgerDbContext>()
            .UseModuleDatabase(ModuleDatabase.DefaultConnectionString, LedgerDbContext.StoreName).Options);
}

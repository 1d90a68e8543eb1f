using Microsoft.EntityFrameworkCore.Design;

namespace Monolith.Trading.Persistence;

/// <summary>For 'dotnet ef migrations add' only; the build's provider decides which migrations it writes.</summary>
internal sealed class TradingDesignTimeFactory : IDesignTimeDbContextFactory<TradingDbContext>
{
    public TradingDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<TradingDbContext>()
            .UseModuleDatabase(ModuleDatabase.DefaultConnectionString, TradingDbContext.StoreName).Options);
}

using Microsoft.EntityFrameworkCore.Design;

namespace Monolith.Portfolio.Persistence;

/// <summary>For 'dotnet ef migrations add' only; the build's provider decides which migrations it writes.</summary>
internal sealed class PortfolioDesignTimeFactory : IDesignTimeDbContextFactory<PortfolioDbContext>
{
    public PortfolioDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PortfolioDbContext>()
            .UseModuleDatabase(ModuleDatabase.DefaultConnectionString, PortfolioDbContext.StoreName).Options);
}

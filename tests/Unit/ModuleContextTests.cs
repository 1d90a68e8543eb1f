using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger;
using Monolith.Portfolio;
using Monolith.Shared.Modules;
using Monolith.Shared.Persistence;
using Monolith.Trading;

namespace Monolith.Tests.Unit;

/// <summary>
/// A module's contexts come with their model mapped to tables. EF Core maps a model on its first query, and two first
/// queries at once can make one of them fail (docs/scale-out.md): a fresh Host answered 500. No connection is opened
/// here, and nothing else in this test process queries a model, so each model below is as fresh as a new Host's.
/// </summary>
public sealed class ModuleContextTests
{
    public static TheoryData<string> Modules => new() { nameof(LedgerModule), nameof(PortfolioModule), nameof(TradingModule) };

    static IModule Module(string name) => name switch
    {
        nameof(LedgerModule) => new LedgerModule(),
        nameof(PortfolioModule) => new PortfolioModule(),
        _ => new TradingModule(),
    };

    [Theory]
    [MemberData(nameof(Modules))]
    public void A_context_is_handed_out_with_its_table_mapping_built(string name)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Monolith"] = ModuleDatabase.DefaultConnectionString,
        }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        Module(name).AddServices(services, configuration);
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();

        var db = scope.ServiceProvider.GetRequiredService<ModuleDbContext>();

        Assert.NotNull(db.Model.FindRuntimeAnnotation(RelationalAnnotationNames.RelationalModel));
    }
}

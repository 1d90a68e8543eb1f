using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;

namespace Monolith.Tests.Concurrency.Fixtures;

internal static class LedgerSetup
{
    /// <summary>Opens a EUR account through the module's own commands and deposits <paramref name="amount"/> into it.</summary>
    public static async Task<Guid> OpenFundedAsync(this IServiceProvider services, decimal amount, decimal overdraftLimit = 0m)
    {
        await using var scope = services.CreateAsyncScope();
        var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
        var account = await mediator.Send(new OpenAccount(Tester, "EUR", overdraftLimit));
        if (amount > 0) await mediator.Send(new Deposit(Tester, account.Id, amount));
        return account.Id;
    }
}

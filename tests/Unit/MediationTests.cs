using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Monolith.Ledger.Features;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Unit;

/// <summary>
/// How a module's requests are wired (MediatR 5.1.0 by hand): the mediator, the behaviors in the order they wrap a
/// handler, and every handler and validator of the module's assembly, each with the lifetime it is written for.
/// </summary>
public sealed class MediationTests
{
    // Built per test, not once: a mutation tool swaps the code under a running test process, and a static would keep the first build.
    static IServiceCollection Ledger => new ServiceCollection().AddModuleRequests(typeof(Transfer).Assembly, DatabaseProfile.SingleServer);

    [Fact]
    public void The_mediator_and_the_behaviors_are_registered_telemetry_outermost()
    {
        Assert.Contains(Ledger, d => d.ServiceType == typeof(IMediator) && d.Lifetime == ServiceLifetime.Scoped);
        Assert.Contains(Ledger, d => d.ServiceType == typeof(ServiceFactory) && d.Lifetime == ServiceLifetime.Scoped);
        Assert.Equal([typeof(CommandTelemetryBehavior<,>), typeof(ValidationBehavior<,>)],
            Ledger.Where(d => d.ServiceType == typeof(IPipelineBehavior<,>)).Select(d => d.ImplementationType));
    }

    [Fact]
    public void Every_handler_is_transient_and_every_validator_a_singleton()
    {
        var handler = Assert.Single(Ledger, d => d.ServiceType == typeof(IRequestHandler<Transfer, TransferResponse>));
        Assert.Equal(ServiceLifetime.Transient, handler.Lifetime);
        var validator = Assert.Single(Ledger, d => d.ServiceType == typeof(IValidator<Transfer>));
        Assert.Equal(ServiceLifetime.Singleton, validator.Lifetime);
        Assert.All(Ledger.Where(d => d.ImplementationType is { } type && type.Assembly == typeof(Transfer).Assembly),
            d => Assert.False(d.ImplementationType!.IsAbstract || d.ImplementationType.IsInterface || d.ImplementationType.IsGenericTypeDefinition));
    }

    [Fact]
    public async Task A_module_sends_its_commands_through_validation_to_its_handler()
    {
        using var services = new ServiceCollection().AddLogging().AddModuleRequests(typeof(Transfer).Assembly, DatabaseProfile.SingleServer).BuildServiceProvider();
        using var scope = services.CreateScope();
        var from = Guid.CreateVersion7();
        // Refused by the validator before any handler (whose database is not even registered here) is resolved.
        var refused = await Assert.ThrowsAsync<ValidationException>(() => scope.ServiceProvider.GetRequiredService<IMediator>()
            .Send(new Transfer(Caller.Owner("alice"), from, from, 0m, "k")));
        Assert.Contains(nameof(Transfer.Amount), refused.Errors.Select(e => e.PropertyName));
    }
}

using System.Reflection;
using FluentValidation;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Behaviors;

/// <summary>A request that changes state. Only commands pass through the logging and validation behaviors.</summary>
public interface ICommand<out TResponse> : IRequest<TResponse>;

public static class Mediation
{
    /// <summary>
    /// MediatR 5.1.0 wired by hand (its DI package is not served): the mediator, the behaviors, and every handler and
    /// validator of the module's assembly, scanned once at start-up. On a cluster node, a 404 is confirmed first
    /// (<see cref="ConfirmNotFoundBehavior{TRequest,TResponse}"/>), innermost, so that validation and the span run once.
    /// </summary>
    public static IServiceCollection AddModuleRequests(this IServiceCollection services, Assembly module, DatabaseProfile profile)
    {
        services.TryAddScoped<ServiceFactory>(sp => type => sp.GetService(type)!);
        services.TryAddScoped<IMediator, Mediator>();
        services.TryAddEnumerable(ServiceDescriptor.Transient(typeof(IPipelineBehavior<,>), typeof(CommandTelemetryBehavior<,>)));
        services.TryAddEnumerable(ServiceDescriptor.Transient(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>)));
        if (profile == DatabaseProfile.GaleraCluster)
            services.TryAddEnumerable(ServiceDescriptor.Transient(typeof(IPipelineBehavior<,>), typeof(ConfirmNotFoundBehavior<,>)));

        foreach (var type in module.GetTypes().Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false }))
            foreach (var contract in type.GetInterfaces().Where(i => i.IsGenericType))
            {
                var definition = contract.GetGenericTypeDefinition();
                // Validators build their rules in the constructor and keep no state: one each, not one per request.
                if (definition == typeof(IValidator<>)) services.AddSingleton(contract, type);
                else if (definition == typeof(IRequestHandler<,>)) services.AddTransient(contract, type);
            }
        return services;
    }
}

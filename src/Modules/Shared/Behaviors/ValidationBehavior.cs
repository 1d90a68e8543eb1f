using FluentValidation;
using MediatR;

namespace Monolith.Shared.Behaviors;

/// <summary>Rejects an invalid command before its handler runs, so bad input changes nothing.</summary>
public sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (request is ICommand<TResponse>)
        {
            var context = new ValidationContext<TRequest>(request);
            var failures = new List<FluentValidation.Results.ValidationFailure>();
            foreach (var validator in validators)
                failures.AddRange((await validator.ValidateAsync(context, cancellationToken)).Errors);
            if (failures.Count > 0) throw new ValidationException(failures);
        }
        return await next();
    }
}

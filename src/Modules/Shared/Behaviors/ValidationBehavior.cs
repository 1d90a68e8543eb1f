using FluentValidation;
using MediatR;

namespace Monolith.Shared.Behaviors;

/// <summary>
/// Rejects an invalid request, command or query, before its handler runs, so bad input changes nothing. Route and
/// query-string values are part of the request, so this is the one place input is checked.
/// </summary>
public sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        ValidationContext<TRequest>? context = null;
        List<FluentValidation.Results.ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(context ??= new ValidationContext<TRequest>(request), cancellationToken);
            if (!result.IsValid) (failures ??= []).AddRange(result.Errors);
        }
        if (failures is not null) throw new ValidationException(failures);
        return await next();
    }
}

using FluentValidation;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Shared.Behaviors;

public static class Rules
{
    /// <summary>Largest amount NUMERIC(28, 8) holds with room for a balance: below 10^18.</summary>
    public const decimal MaxAmount = 999_999_999_999_999_999.99999999m;

    public static IRuleBuilderOptions<T, decimal> MustBeAnAmount<T>(this IRuleBuilder<T, decimal> rule) =>
        rule.GreaterThan(0).WithMessage("'{PropertyName}' must be greater than zero.")
            .LessThanOrEqualTo(MaxAmount)
            .Must(Money.HasAtMostScale).WithMessage($"'{{PropertyName}}' must have at most {Money.Scale} decimal places; more precision is refused, not rounded.");

    /// <summary>Largest share count or unit price: their product then stays below 10^18, within NUMERIC(28, 8).</summary>
    public const decimal MaxQuantity = 1_000_000_000m;

    public static IRuleBuilderOptions<T, decimal> MustBeAQuantity<T>(this IRuleBuilder<T, decimal> rule) =>
        rule.GreaterThan(0).WithMessage("'{PropertyName}' must be greater than zero.")
            .LessThanOrEqualTo(MaxQuantity)
            .Must(Money.HasAtMostScale).WithMessage($"'{{PropertyName}}' must have at most {Money.Scale} decimal places; more precision is refused, not rounded.");

    // Patterns end in \z, not $: .NET's $ also matches before a final newline, which would let "USD\n" through.
    public static IRuleBuilderOptions<T, string> MustBeACurrencyCode<T>(this IRuleBuilder<T, string> rule) =>
        rule.NotEmpty().Matches("^[A-Z]{3}\\z").WithMessage("'{PropertyName}' must be an ISO 4217 code: three capital letters.");

    /// <summary>Free text (an owner, a reason): no control characters, which PostgreSQL refuses (NUL) or logs and headers mangle.</summary>
    public static IRuleBuilderOptions<T, string?> MustBePlainText<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => text is null || !text.Any(char.IsControl)).WithMessage("'{PropertyName}' must not contain control characters.");

    public static IRuleBuilderOptions<T, string?> MustBeAnIdempotencyKey<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(IdempotencyRecord.MaxKeyLength)
            .Matches("^[\\x21-\\x7E]+\\z").WithMessage("'{PropertyName}' must be printable ASCII without spaces.");

    /// <summary>An instant as a query string carries it; null (absent) passes, for the queries that default to now.</summary>
    public static IRuleBuilderOptions<T, string?> MustBeAnInstant<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => text is null || Instants.TryParse(text, out _))
            .WithMessage("'{PropertyName}' must be an ISO 8601 instant, for example 2026-01-05T12:00:00Z.");

}

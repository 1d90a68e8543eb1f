using FluentValidation;
using Monolith.Ledger.Features;
using Monolith.Shared.Behaviors;
using Monolith.Shared.Errors;
using Monolith.Shared.Persistence;

namespace Monolith.Tests.Unit;

/// <summary>
/// The shared input rules every validator is built from, at their bounds: what the Host's strict-input tests send
/// through HTTP for some fields, here for each rule on its own.
/// </summary>
public sealed class RulesTests
{
    sealed record Input(decimal Amount = 1m, decimal Quantity = 1m, string Currency = "EUR", string? Text = null, string? Key = null, string? At = null);

    sealed class InputValidator : AbstractValidator<Input>
    {
        public InputValidator()
        {
            RuleFor(x => x.Amount).MustBeAnAmount();
            RuleFor(x => x.Quantity).MustBeAQuantity();
            RuleFor(x => x.Currency).MustBeACurrencyCode();
            RuleFor(x => x.Text).MustBePlainText();
            RuleFor(x => x.Key).MustBeAnIdempotencyKey();
            RuleFor(x => x.At).MustBeAnInstant();
        }
    }

    static readonly InputValidator Validator = new();

    /// <summary>The fields the input is refused for; none when it is accepted.</summary>
    static string[] Refused(Input input) => Validator.Validate(input).Errors.Select(e => e.PropertyName).Distinct().ToArray();

    [Fact]
    public void Valid_input_passes_every_rule() => Assert.Empty(Refused(new Input(Text: "plain text", Key: "k", At: "2026-01-05T12:00:00Z")));

    [Theory]
    [InlineData("0.00000001", true)]
    [InlineData("999999999999999999.99999999", true)] // Rules.MaxAmount
    [InlineData("0", false)]
    [InlineData("-1", false)]
    [InlineData("1000000000000000000", false)]
    [InlineData("0.000000001", false)] // a ninth decimal place is refused, not rounded
    public void An_amount_is_positive_below_10_to_the_18_with_eight_places_at_most(string amount, bool accepted) =>
        Assert.Equal(accepted, !Refused(new Input(Amount: decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture))).Contains(nameof(Input.Amount)));

    [Theory]
    [InlineData("1000000000", true)] // Rules.MaxQuantity
    [InlineData("0.00000001", true)]
    [InlineData("1000000000.00000001", false)]
    [InlineData("0", false)]
    [InlineData("1.000000001", false)]
    public void A_quantity_is_positive_up_to_a_billion_with_eight_places_at_most(string quantity, bool accepted) =>
        Assert.Equal(accepted, !Refused(new Input(Quantity: decimal.Parse(quantity, System.Globalization.CultureInfo.InvariantCulture))).Contains(nameof(Input.Quantity)));

    [Theory]
    [InlineData("USD", true)]
    [InlineData("usd", false)]
    [InlineData("US", false)]
    [InlineData("USDT", false)]
    [InlineData("USD\n", false)] // .NET's $ would match before the newline
    [InlineData("", false)]
    public void A_currency_is_three_capital_letters(string currency, bool accepted) =>
        Assert.Equal(accepted, !Refused(new Input(Currency: currency)).Contains(nameof(Input.Currency)));

    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("tabs are\u00a0not controls, nor is \u00e9", true)]
    [InlineData("a\u0000", false)]
    [InlineData("a\t", false)]
    [InlineData("a\u001f", false)]
    [InlineData("a\u007f", false)]
    [InlineData("a\u0080", false)]
    [InlineData("a\u0085", false)]
    [InlineData("a\u009f", false)]
    public void Plain_text_has_no_control_character(string? text, bool accepted) =>
        Assert.Equal(accepted, !Refused(new Input(Text: text)).Contains(nameof(Input.Text)));

    [Fact]
    public void An_idempotency_key_is_1_to_100_printable_ASCII_characters()
    {
        Assert.DoesNotContain(nameof(Input.Key), Refused(new Input(Key: null)));
        Assert.DoesNotContain(nameof(Input.Key), Refused(new Input(Key: new string('k', IdempotencyRecord.MaxKeyLength))));
        Assert.DoesNotContain(nameof(Input.Key), Refused(new Input(Key: "!~")));
        foreach (var key in new[] { "", new string('k', IdempotencyRecord.MaxKeyLength + 1), "a b", "a\u007f", "caf\u00e9", "key\n" })
            Assert.Contains(nameof(Input.Key), Refused(new Input(Key: key)));
    }

    [Theory]
    [InlineData(null, true)] // absent: the query defaults to now
    [InlineData("2026-01-05T12:00Z", true)]
    [InlineData("2026-01-05T12:00:00.1234567+02:00", true)]
    [InlineData("2026-01-05T12:00:00", false)] // no offset: a guess about when money moved
    [InlineData("2026-01-05T12:00:00.12345678Z", false)]
    [InlineData("2026-01-05T12:00:00Z\n", false)]
    [InlineData("2026-02-30T12:00:00Z", false)]
    [InlineData("05/01/2026 12:00 +00:00", false)]
    public void An_instant_is_ISO_8601_with_its_offset(string? at, bool accepted) =>
        Assert.Equal(accepted, !Refused(new Input(At: at)).Contains(nameof(Input.At)));

    [Fact]
    public void Every_refusal_says_which_field_and_why()
    {
        var refusals = Validator.Validate(new Input(Amount: 0.000000001m, Quantity: 0m, Currency: "usd", Text: "a\u0000", Key: "a b", At: "today")).Errors;
        Assert.Equal(6, refusals.Select(e => e.PropertyName).Distinct().Count());
        Assert.All(refusals, e => Assert.Matches($"^'{System.Text.RegularExpressions.Regex.Escape(e.FormattedMessagePlaceholderValues["PropertyName"].ToString()!)}' .{{10,}}", e.ErrorMessage));
    }

    [Fact]
    public void An_instant_in_a_body_is_read_only_with_its_offset()
    {
        var json = new System.Text.Json.JsonSerializerOptions { Converters = { new Instants.JsonConverter() } };
        var instant = new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.FromHours(-3));
        Assert.Equal(instant, System.Text.Json.JsonSerializer.Deserialize<DateTimeOffset>(System.Text.Json.JsonSerializer.Serialize(instant, json), json));
        foreach (var body in new[] { "\"2026-01-05T12:00:00\"", "1767614400", "null", "\"\"" })
            Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<DateTimeOffset>(body, json));
    }

    [Fact]
    public void Instants_travel_round_trip_and_are_stored_to_the_microsecond()
    {
        var instant = new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567);
        Assert.Equal(instant, Instants.Parse(Instants.Format(instant)));
        Assert.Throws<FormatException>(() => Instants.Parse("yesterday"));
        var stored = instant.ToStoredPrecision();
        Assert.Equal(TimeSpan.Zero, stored.Offset);
        Assert.Equal(instant.UtcTicks - 7, stored.UtcTicks);
    }

    [Fact]
    public void A_replay_answers_the_stored_operation_only_for_the_same_command()
    {
        var (from, to, operation) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        var sent = new Transfer(Caller.Owner("alice"), from, to, 10m, "k");
        var stored = new IdempotencyRecord { Subject = "alice", Key = "k", RequestHash = IdempotencyRecord.Fingerprint(sent), OperationId = operation };

        Assert.Equal(operation, stored.Replay(sent with { Amount = 10.0m }));
        Assert.Throws<IdempotencyKeyReusedException>(() => stored.Replay(sent with { Amount = 11m }));
    }
}
